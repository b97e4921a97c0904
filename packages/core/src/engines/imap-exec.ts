import type { ImapFlow } from "imapflow";

/*
 * imapflow's generic `exec`: it sends any command and hands back the parsed untagged responses,
 * without the per-message formatting its fetch() does (re-serialising every item name to find its
 * key, a Set of flags, a Date, a hashed id). The engine reaches it for MULTIAPPEND, which imapflow
 * lacks, and for the FETCHes that run once per message (the copy's bodies, the check's identities),
 * where that formatting was a fifth of the engine's CPU. It is not in imapflow's typings: every use
 * goes through execOf and falls back to the public API when it is missing.
 */

/** One token of a parsed response: an atom, a string, a literal (Buffer value), or a list (an array). */
export interface ImapToken {
  type?: unknown;
  value?: unknown;
  section?: unknown;
}

export interface UntaggedResponse {
  attributes?: unknown[];
}

export interface ExecResponse {
  response?: { attributes?: { section?: { value?: unknown }[] }[] };
  next(): void;
}

export interface ImapFlowExec {
  exec(
    command: string,
    attributes: unknown[],
    options?: { untagged?: Record<string, (untagged: UntaggedResponse) => unknown> },
  ): Promise<ExecResponse>;
}

export function execOf(client: ImapFlow): ImapFlowExec | undefined {
  const candidate = client as unknown as Partial<ImapFlowExec>;
  return typeof candidate.exec === "function" ? (candidate as ImapFlowExec) : undefined;
}

/** imapflow's error for a command the server answered "Request is throttled … Backoff Time" (after waiting it). */
export function isThrottled(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === "ETHROTTLE";
}

const UINT = /^\d{1,10}$/;

export function uintOf(token: ImapToken | null | undefined): number | undefined {
  const value = token?.value;
  return typeof value === "string" && UINT.test(value) ? Number(value) : undefined;
}

/** An nstring's bytes: a literal (a Buffer), a quoted string, or undefined for NIL. */
export function bytesOf(token: ImapToken | null | undefined): Buffer | undefined {
  const value = token?.value;
  if (Buffer.isBuffer(value)) return value;
  // As imapflow does: the tokenizer decoded a quoted string as UTF-8, so encoding it back restores it.
  return typeof value === "string" ? Buffer.from(value) : undefined;
}

/** The `(name value name value …)` items of a `* n FETCH (…)` response, or undefined when it has none. */
export function fetchResponseItems(untagged: UntaggedResponse): unknown[] | undefined {
  const items = untagged.attributes?.[1];
  return Array.isArray(items) ? items : undefined;
}
