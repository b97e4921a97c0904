/**
 * What a value looks like after JSON: dates become ISO strings. API outputs are declared in this shape
 * so the types the SDK sees are exactly what arrives over the wire (no transformer is used).
 */
export type JsonPlain<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? JsonPlain<U>[]
    : T extends object
      ? { [K in keyof T]: JsonPlain<T[K]> }
      : T;

/**
 * Keys that must never reach a client even if a service returned them by mistake. Services already
 * return views without secrets; this is the belt to that pair of braces.
 */
const SECRET_KEY_PATTERN = /password|secret|hash$/i;
/** Verdicts per key name: a page of 50 jobs repeats the same few dozen keys, so test each once. */
const secretKeys = new Map<string, boolean>();

function isSecretKey(key: string): boolean {
  let secret = secretKeys.get(key);
  if (secret === undefined) {
    secret = SECRET_KEY_PATTERN.test(key);
    if (secretKeys.size < 10_000) secretKeys.set(key, secret);
  }
  return secret;
}

/** Converts a service result to its JSON shape: Dates to ISO strings, secret-looking keys dropped. */
export function jsonPlain<T>(value: T): JsonPlain<T> {
  return convert(value) as JsonPlain<T>;
}

function convert(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(convert);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key in value) {
      const inner = (value as Record<string, unknown>)[key];
      if (inner === undefined || isSecretKey(key)) continue;
      out[key] = typeof inner === "object" && inner !== null ? convert(inner) : inner;
    }
    return out;
  }
  return value;
}
