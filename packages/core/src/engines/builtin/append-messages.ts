import type { ImapFlow } from "imapflow";
import type { ExecResponse } from "../imap-exec.ts";
import { execOf } from "../imap-exec.ts";
import { encodeModifiedUtf7 } from "./mailbox-name.ts";

/** A message on its way to the destination. */
export interface OutgoingMessage {
  sourceUid: number;
  size: number;
  flags: string[];
  internalDate: Date | undefined;
  content: Buffer;
}

/*
 * imapflow runs one command at a time per connection and has no MULTIAPPEND. Measured against
 * Dovecot, one APPEND costs ~4 ms whatever the message size (each is its own save transaction),
 * so 2,000 messages take ~12 s serially, and more connections to the same mailbox do not help
 * (they queue on the mailbox lock). MULTIAPPEND (RFC 3502) saves a whole batch in one
 * transaction: the same corpus takes ~4 s. imapflow's generic `exec` sends it (see imap-exec.ts),
 * falling back to `append()` if `exec` ever goes away.
 */
export function canMultiAppend(client: ImapFlow): boolean {
  return client.capabilities.has("MULTIAPPEND") && execOf(client) !== undefined;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** RFC 3501 date-time, in UTC: `" 2-Jan-2023 10:00:00 +0000"` (the day is space-padded). */
export function formatImapDateTime(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const day = String(date.getUTCDate()).padStart(2, " ");
  const time = `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
  return `${day}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ${time} +0000`;
}

/** RFC 3501 atom: printable ASCII without atom-specials ( ) { space % * " \ ]. */
function isAtom(value: string): boolean {
  if (value.length === 0) {
    return false;
  }
  for (const char of value) {
    const code = char.charCodeAt(0);
    if (code <= 0x20 || code >= 0x7f || '(){%*"\\]'.includes(char)) {
      return false;
    }
  }
  return true;
}

/** Flags that can be stored: \Recent is session state (RFC 3501) and keywords must be atoms. */
export function storableFlags(flags: Iterable<string>): string[] {
  const result: string[] = [];
  for (const flag of flags) {
    if (flag.toLowerCase() === "\\recent" || flag === "\\*") {
      continue;
    }
    if (isAtom(flag.startsWith("\\") ? flag.slice(1) : flag)) {
      result.push(flag);
    }
  }
  return result;
}

function wirePath(client: ImapFlow, path: string): string {
  const enabled = (client as unknown as { enabled?: Set<string> }).enabled;
  if (enabled?.has("UTF8=ACCEPT")) {
    return path;
  }
  return /[^\x20-\x7e]|&/.test(path) ? encodeModifiedUtf7(path) : path;
}

/** Expands an APPENDUID uid-set (`5:7,9`) to [5, 6, 7, 9]. */
export function expandUidSet(set: string): number[] {
  const uids: number[] = [];
  for (const part of set.split(",")) {
    const [from, to] = part.split(":").map(Number);
    if (from === undefined || !Number.isInteger(from)) {
      continue;
    }
    const end = to !== undefined && Number.isInteger(to) ? to : from;
    for (let uid = Math.min(from, end); uid <= Math.max(from, end); uid++) {
      uids.push(uid);
    }
  }
  return uids;
}

function appendUids(response: ExecResponse): number[] {
  const section = response.response?.attributes?.[0]?.section;
  const code = section?.[0]?.value;
  const set = section?.[2]?.value;
  if (typeof code === "string" && code.toUpperCase() === "APPENDUID" && typeof set === "string") {
    return expandUidSet(set);
  }
  return [];
}

/**
 * Appends messages to one destination folder, in order, all or nothing when MULTIAPPEND is used.
 * Returns the destination UIDs (APPENDUID) where the server reports them.
 */
export async function appendMessages(
  client: ImapFlow,
  path: string,
  messages: OutgoingMessage[],
  multiAppend: boolean,
): Promise<(number | undefined)[]> {
  const exec = execOf(client);
  if (messages.length > 1 && multiAppend && exec) {
    const binary = client.capabilities.has("BINARY");
    const attributes: unknown[] = [{ type: "STRING", value: wirePath(client, path) }];
    for (const message of messages) {
      attributes.push(message.flags.map((flag) => ({ type: "ATOM", value: flag })));
      if (message.internalDate) {
        attributes.push({ type: "STRING", value: formatImapDateTime(message.internalDate) });
      }
      attributes.push({
        type: "LITERAL",
        value: message.content,
        isLiteral8: binary && message.content.includes(0),
      });
    }
    const response = await exec.exec("APPEND", attributes);
    response.next();
    const uids = appendUids(response);
    return messages.map((_message, i) => uids[i]);
  }
  const uids: (number | undefined)[] = [];
  for (const message of messages) {
    const result = await client.append(path, message.content, message.flags, message.internalDate);
    uids.push(result ? result.uid : undefined);
  }
  return uids;
}
