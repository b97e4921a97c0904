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

/** The items of one `* n FETCH (…)` line the engine asks for, as sent (dates and flags not interpreted). */
export interface FetchedItems {
  uid?: number;
  size?: number;
  flags?: string[];
  internalDate?: string;
  /** The one BODY[…] section asked for: the whole message, or header fields. */
  body?: Buffer;
}

function flagsOf(token: unknown): string[] {
  const flags: string[] = [];
  if (!Array.isArray(token)) return flags;
  for (const flag of token as (ImapToken | null)[]) {
    if (typeof flag?.value === "string") flags.push(flag.value);
  }
  return flags;
}

/** Reads UID, RFC822.SIZE, FLAGS, INTERNALDATE and a BODY[…] section out of one FETCH line. */
export function fetchedItems(untagged: UntaggedResponse): FetchedItems {
  const row: FetchedItems = {};
  const items = fetchResponseItems(untagged);
  if (!items) return row;
  for (let i = 0; i + 1 < items.length; i += 2) {
    const key = items[i] as ImapToken | null;
    const value = items[i + 1] as ImapToken | null;
    const name = typeof key?.value === "string" ? key.value.toUpperCase() : "";
    if (name === "UID") row.uid = uintOf(value);
    else if (name === "RFC822.SIZE") row.size = uintOf(value);
    else if (name === "FLAGS") row.flags = flagsOf(value);
    else if (name === "INTERNALDATE")
      row.internalDate = typeof value?.value === "string" ? value.value : undefined;
    else if (name === "BODY" && Array.isArray(key?.section)) row.body = bytesOf(value);
  }
  return row;
}
