import type { FolderVerification } from "@imapferry/db";
import type { ImapFlow } from "imapflow";
import type { SyncArgs } from "../builtin/sync-args.ts";
import type { FolderSyncState } from "../builtin/sync-state.ts";
import { fromRuns, selectionKey, stateApplies } from "../builtin/sync-state.ts";

/*
 * Why the check may take the built-in engine's word for which destination message is the copy of
 * which source message: the engine's folder state (sync-state.ts) maps source UIDs to the UIDs the
 * destination server itself gave the copies (APPENDUID, the server's receipt for the bytes the engine
 * read from that source UID) or that the engine matched by identity, exactly as the check matches.
 * What can go wrong after the copy is what the servers do, and that the check still reads from both:
 * every source message in the folder now must have its own copy, under the same UIDVALIDITY, among
 * the UIDs the destination holds now. Reading two UID lists (UID SEARCH ALL: one line per folder)
 * costs a fraction of reading every message's identity headers, which on a fresh copy the
 * destination has to parse out of files it has just written. Anything the map does not prove (a
 * source message without a copy in it, a copy gone, a UIDVALIDITY changed) sends the folder through
 * the full check, which says which messages are missing and why.
 */

/** The folder states a built-in run leaves, by folder pair (see FolderStates). */
export interface CopyLedgers {
  lookup(sourceFolder: string, destinationFolder: string): FolderSyncState | undefined;
}

interface UidSide {
  uidValidity: string;
  uids: number[];
  count: number;
  bytes: number;
}

/** One side's UIDs and its totals from STATUS; undefined where the server has no STATUS=SIZE. */
async function readUids(client: ImapFlow, path: string): Promise<UidSide | undefined> {
  if (!client.capabilities.has("STATUS=SIZE") && !client.capabilities.has("IMAP4rev2")) return undefined;
  const mailbox = await client.mailboxOpen(path, { readOnly: true });
  const uids = mailbox.exists === 0 ? [] : await client.search({ all: true }, { uid: true });
  const status = await client.status(path, { messages: true, size: true });
  if (!uids || !status || status.messages === undefined || status.size === undefined) return undefined;
  return { uidValidity: mailbox.uidValidity.toString(), uids, count: status.messages, bytes: status.size };
}

/** Whether a state recorded by the engine speaks for the messages this check has in scope. */
function ledgerApplies(state: FolderSyncState, args: SyncArgs): boolean {
  // Size limits leave messages out of the map that the check could only tell apart by their sizes.
  return (
    stateApplies(args) &&
    args.maxSize === undefined &&
    args.minSize === undefined &&
    state.selection === selectionKey(args)
  );
}

/**
 * The folder found complete from the engine's map, or undefined when the map does not prove it (the
 * full check then reads the folder).
 */
export async function checkByLedger(input: {
  args: SyncArgs;
  state: FolderSyncState | undefined;
  source: ImapFlow;
  destination: ImapFlow;
  sourcePath: string;
  destinationPath: string;
}): Promise<FolderVerification | undefined> {
  const { state } = input;
  if (!state || !ledgerApplies(state, input.args)) return undefined;
  const [source, destination] = await Promise.all([
    readUids(input.source, input.sourcePath),
    readUids(input.destination, input.destinationPath),
  ]);
  if (
    !source ||
    !destination ||
    source.uidValidity !== state.source.uidValidity ||
    destination.uidValidity !== state.destination.uidValidity
  ) {
    return undefined;
  }
  const copies = fromRuns(state.copies);
  const present = new Set(destination.uids);
  const claimed = new Set<number>();
  for (const uid of source.uids) {
    const copy = copies.get(uid);
    // Each source message needs a copy of its own: one destination message answers for one only.
    if (copy === undefined || !present.has(copy) || claimed.has(copy)) return undefined;
    claimed.add(copy);
  }
  return {
    folder: input.sourcePath,
    destinationFolder: input.destinationPath,
    sourceMessages: source.count,
    sourceBytes: source.bytes,
    destMessages: destination.count,
    destBytes: destination.bytes,
    missing: 0,
    missingSample: [],
  };
}
