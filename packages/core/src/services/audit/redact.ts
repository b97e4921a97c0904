/**
 * What of a change's input goes into the audit log: everything that says what was changed, nothing
 * that would make the log a place to steal from. Secrets (passwords, tokens, keys) are left out and
 * their paths listed in `redacted` (["sourcePassword", "admin.password"]), so the log still tells that a
 * password was given or changed; a CSV import keeps its size only (its rows hold passwords). Long
 * values are cut: the log records a decision, not the data.
 */
const SECRET_KEY = /password|secret|token|credential|key$/i;
const CSV_KEY = /^csv$/i;
const MAX_STRING = 200;
const MAX_ITEMS = 20;
const MAX_DEPTH = 4;

export function auditDetails(input: unknown): Record<string, unknown> {
  const redacted: string[] = [];
  const value = redact(input, [], redacted);
  const details =
    value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : value === undefined
        ? {}
        : { input: value };
  return redacted.length > 0 ? { ...details, redacted } : details;
}

function redact(value: unknown, path: string[], redacted: string[]): unknown {
  if (value === null || typeof value === "boolean" || typeof value === "number") return value;
  if (typeof value === "string") return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (path.length >= MAX_DEPTH) return "[…]";
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((item, i) => redact(item, [...path, String(i)], redacted));
    if (value.length > MAX_ITEMS) items.push(`… ${value.length - MAX_ITEMS} more`);
    return items;
  }
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if (inner === undefined) continue;
      if (CSV_KEY.test(key)) out[`${key}Bytes`] = typeof inner === "string" ? Buffer.byteLength(inner) : null;
      else if (SECRET_KEY.test(key)) {
        // An empty value ("keep the stored password") is no secret, and not a change of one.
        if (inner !== "" && inner !== null) redacted.push([...path, key].join("."));
      } else out[key] = redact(inner, [...path, key], redacted);
    }
    return out;
  }
  return undefined;
}
