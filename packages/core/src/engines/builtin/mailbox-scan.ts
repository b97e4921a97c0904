import type { ImapFlow } from "imapflow";
import { execOf, fetchedItems, isThrottled } from "../imap-exec.ts";
import { storableFlags } from "./append-messages.ts";
import { contentIdentity, headerIdentity, IDENTITY_HEADERS } from "./message-identity.ts";

/** UIDs per FETCH command, to keep command lines short on sparse UID sets. */
export const UIDS_PER_FETCH = 1000;

export interface ScannedMessage {
  uid: number;
  size: number;
  /**
   * What the message is matched by across servers: its Message-Id/Received identity where that can
   * be trusted, else its content identity (see message-identity.ts). Set by `identifyMessages`.
   */
  identity: string;
  /** imapsync's identity (Message-Id, Received, size); undefined for a "void" message with neither. */
  headerKey: string | undefined;
  /** Exactly one well-formed Message-Id. */
  trustedId: boolean;
  /** INTERNALDATE in epoch milliseconds (a number, not a Date: 100,000 Date objects are ~10 MB). */
  internalTime: number | undefined;
  /** Storable flags, sorted. */
  flags: string[];
}

export function toDate(value: Date | string | undefined): Date | undefined {
  if (value === undefined) {
    return undefined;
  }
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Compact UID sets (`1:5,9,12:14`), split so no FETCH command line grows unbounded. */
export function uidSets(uids: number[], perSet: number): string[] {
  const sets: string[] = [];
  for (let start = 0; start < uids.length; start += perSet) {
    const chunk = uids.slice(start, start + perSet);
    const parts: string[] = [];
    let runStart = chunk[0];
    let previous = chunk[0];
    for (let i = 1; i <= chunk.length; i++) {
      const uid = chunk[i];
      if (uid !== undefined && previous !== undefined && uid === previous + 1) {
        previous = uid;
        continue;
      }
      if (runStart !== undefined && previous !== undefined) {
        parts.push(runStart === previous ? `${runStart}` : `${runStart}:${previous}`);
      }
      runStart = uid;
      previous = uid;
    }
    sets.push(parts.join(","));
  }
  return sets;
}

/**
 * BODY.PEEK[HEADER.FIELDS (…)] of the identity headers, spelt as imapflow's fetch() spells them: a
 * server that caches header fields per request (Dovecot) answers every later read of them (the
 * check's, a rerun's) from what the first one parsed.
 */
const IDENTITY_HEADERS_ITEM = {
  type: "ATOM",
  value: "BODY.PEEK",
  section: [
    { type: "ATOM", value: "HEADER.FIELDS" },
    IDENTITY_HEADERS.map((header) => ({ type: "ATOM", value: header })),
  ],
};

/** What a scan asks for: size, flags, internal date and the identifying headers. */
const SCAN_QUERY = { uid: true, size: true, flags: true, internalDate: true, headers: IDENTITY_HEADERS };
/** A scan that compares nothing: the same without the headers, which the server must parse out of every message. */
const UNIDENTIFIED_SCAN_QUERY = { uid: true, size: true, flags: true, internalDate: true };
/**
 * Which items a scan reads besides UID, size and (when it identifies) the identity headers. The check
 * after a run compares no flags and needs dates only under age limits: asking less of every message
 * is less for both servers to answer.
 */
export interface ScanReads {
  flags: boolean;
  internalDates: boolean;
}

const EVERY_ITEM: ScanReads = { flags: true, internalDates: true };

/** SCAN_QUERY as exec items (see imap-exec.ts). */
function scanItems(identify: boolean, reads: ScanReads): unknown[] {
  const atoms = ["UID", "RFC822.SIZE", ...(reads.flags ? ["FLAGS"] : [])];
  if (reads.internalDates) atoms.push("INTERNALDATE");
  const items: unknown[] = atoms.map((value) => ({ type: "ATOM", value }));
  return identify ? [...items, IDENTITY_HEADERS_ITEM] : items;
}

/** What a scan's FETCH reads of one message set, and how. */
interface ScanRequest {
  /** UIDs, or else sequence numbers. */
  byUid: boolean;
  identify: boolean;
  skipSize: boolean;
  flagSets: FlagSets;
  /** @defaultValue every item */
  reads?: ScanReads;
  /** Which UIDs count ("n:m" past the highest UID answers with the last message). @defaultValue all */
  asked?: (uid: number) => boolean;
}

/**
 * The scan's FETCH of one message set: the messages that answer it, in the server's order. Through
 * exec, past imapflow's per-message formatting; without exec, or when the server throttles it,
 * through fetch(), which waits the backoffs out (what was read before a throttle is dropped, and the
 * set read again there).
 */
async function scanSet(client: ImapFlow, set: string, request: ScanRequest): Promise<ScannedMessage[]> {
  const { byUid, identify, skipSize, flagSets, reads = EVERY_ITEM, asked = () => true } = request;
  const exec = execOf(client);
  if (exec) {
    const scanned: ScannedMessage[] = [];
    try {
      const response = await exec.exec(
        byUid ? "UID FETCH" : "FETCH",
        [{ type: "SEQUENCE", value: set }, scanItems(identify, reads)],
        {
          untagged: {
            FETCH(untagged) {
              const { uid, size, flags, internalDate, body } = fetchedItems(untagged);
              // A line without both is a flag change reported unasked, not an answer.
              if (uid === undefined || size === undefined || !asked(uid)) return;
              const row = { uid, size, flags, internalDate, headers: body };
              scanned.push(toScanned(row, skipSize, flagSets, identify));
            },
          },
        },
      );
      response.next();
      return scanned;
    } catch (e: unknown) {
      if (!isThrottled(e)) throw e;
    }
  }
  const scanned: ScannedMessage[] = [];
  for await (const row of client.fetch(set, identify ? SCAN_QUERY : UNIDENTIFIED_SCAN_QUERY, {
    uid: byUid,
  })) {
    if (asked(row.uid)) scanned.push(toScanned(row, skipSize, flagSets, identify));
  }
  return scanned;
}

/**
 * One shared, frozen array per distinct flag set: a mailbox of 100,000 messages has a handful of them
 * (none, \Seen, \Seen \Answered …), and an array per message was a tenth of the engine's heap.
 */
class FlagSets {
  private readonly sets = new Map<string, readonly string[]>();

  of(flags: Iterable<string> | undefined): string[] {
    const sorted = storableFlags(flags ?? []).sort();
    const key = sorted.join(" ");
    let shared = this.sets.get(key);
    if (!shared) {
      shared = Object.freeze(sorted);
      this.sets.set(key, shared);
    }
    return shared as string[];
  }
}

function toScanned(
  row: {
    uid: number;
    size?: number;
    headers?: Buffer;
    internalDate?: Date | string;
    flags?: Iterable<string>;
  },
  skipSize: boolean,
  flagSets: FlagSets,
  identify: boolean,
): ScannedMessage {
  const size = row.size ?? 0;
  const { headerKey, trustedId } = identify
    ? headerIdentity(row.headers, skipSize ? undefined : size)
    : { headerKey: `uid:${row.uid}`, trustedId: false };
  // Every property always present, in one order: the objects share one compact shape.
  return {
    uid: row.uid,
    size,
    identity: headerKey ?? "",
    headerKey,
    trustedId,
    internalTime: toDate(row.internalDate)?.getTime(),
    flags: flagSets.of(row.flags),
  };
}

/**
 * Reads size, flags, internal date and the identifying headers of every message of the selected
 * mailbox, in UID order. The identity is provisional until `identifyMessages` has run. With `identify`
 * false the headers are not read, and each message's identity is its own UID (`uid:N`): no two are
 * alike and none is like any copy, which is right only where nothing is compared (see fullPass).
 * `reads` leaves flags or dates out (they are then empty and undefined); a server that throttles
 * the scan is read in full through fetch().
 */
export async function scanMailbox(
  client: ImapFlow,
  exists: number,
  skipSize: boolean,
  identify = true,
  reads: ScanReads = EVERY_ITEM,
): Promise<ScannedMessage[]> {
  if (exists === 0) {
    return [];
  }
  const flagSets = new FlagSets();
  const scanned = await scanSet(client, "1:*", { byUid: false, identify, skipSize, flagSets, reads });
  scanned.sort((a, b) => a.uid - b.uid);
  return scanned;
}

/** `scanMailbox` for just these UIDs of the selected mailbox (those still there), in UID order. */
export async function scanUids(
  client: ImapFlow,
  uids: number[],
  skipSize: boolean,
): Promise<ScannedMessage[]> {
  const wanted = new Set(uids);
  const sets = uidSets(
    [...wanted].sort((a, b) => a - b),
    UIDS_PER_FETCH,
  );
  return scanSets(client, sets, (uid) => wanted.has(uid), skipSize);
}

/** `scanMailbox` for the UIDs from `first` to `last` of the selected mailbox, in UID order. */
export function scanUidRange(
  client: ImapFlow,
  first: number,
  last: number,
  skipSize: boolean,
): Promise<ScannedMessage[]> {
  if (last < first) return Promise.resolve([]);
  return scanSets(client, [`${first}:${last}`], (uid) => uid >= first && uid <= last, skipSize);
}

async function scanSets(
  client: ImapFlow,
  sets: string[],
  asked: (uid: number) => boolean,
  skipSize: boolean,
): Promise<ScannedMessage[]> {
  const scanned: ScannedMessage[] = [];
  const flagSets = new FlagSets();
  for (const set of sets) {
    // "n:m" past the highest UID answers with the last message: only what was asked for counts.
    for (const message of await scanSet(client, set, {
      byUid: true,
      identify: true,
      skipSize,
      flagSets,
      asked,
    })) {
      scanned.push(message);
    }
  }
  scanned.sort((a, b) => a.uid - b.uid);
  return scanned;
}

/**
 * Header identities that two messages of one source folder share. Real mail has them: a message
 * sent to two of the user's addresses, a resent one, a mailer that reuses Message-Ids. Messages
 * with such an identity are told apart by content instead.
 */
export function sharedHeaderKeys(messages: ScannedMessage[]): Set<string> {
  const seen = new Set<string>();
  const shared = new Set<string>();
  for (const message of messages) {
    if (message.headerKey === undefined) continue;
    if (seen.has(message.headerKey)) shared.add(message.headerKey);
    seen.add(message.headerKey);
  }
  return shared;
}

/**
 * Settles each message's identity on the selected mailbox: the header identity where the Message-Id
 * is trusted and not shared (`shared`, from the source folder), else the content identity, for which
 * the whole header block of just those messages is fetched. Both servers get the same rule, so a
 * message and its byte-identical copy always get the same identity.
 */
export async function identifyMessages(
  client: ImapFlow,
  messages: ScannedMessage[],
  shared: Set<string>,
  skipSize: boolean,
): Promise<void> {
  const byUid = new Map<number, ScannedMessage>();
  for (const message of messages) {
    if (message.trustedId && message.headerKey !== undefined && !shared.has(message.headerKey)) {
      message.identity = message.headerKey;
    } else {
      byUid.set(message.uid, message);
    }
  }
  if (byUid.size === 0) return;
  for (const set of uidSets([...byUid.keys()], UIDS_PER_FETCH)) {
    for await (const row of client.fetch(set, { uid: true, headers: true }, { uid: true })) {
      const message = byUid.get(row.uid);
      if (message && row.headers) {
        message.identity = contentIdentity(row.headers, skipSize ? undefined : message.size);
        byUid.delete(row.uid);
      }
    }
  }
  // A message that vanished between the two FETCHes keeps a key no other message can have.
  for (const message of byUid.values()) {
    message.identity = `gone:${message.uid}`;
  }
}
