import type { SyncArgs } from "./sync-args.ts";

/**
 * The incremental sync state of one folder pair, as the engine receives it at start and reports it
 * after a clean pass over the folder. Advisory only: it is checked against both servers before use,
 * and anything that does not fit sends the folder through the full comparison.
 *
 * What it asserts, for the moment the pass took its stamps: under `source.uidValidity`, every source
 * message with a UID below `source.uidNext` is either in `copies` (its copy on the destination, under
 * `destination.uidValidity`, has the UID given) or was left out by the selection (`selection` says
 * which filters applied); every destination message below `destination.uidNext` is either such a copy
 * or listed in `unclaimed`. IMAP guarantees that a UID never changes its message under one
 * UIDVALIDITY, so a UID still present is still the same message.
 */
export interface FolderSyncState {
  sourceFolder: string;
  destinationFolder: string;
  /** The options that choose which messages are copied; state recorded under others does not apply. */
  selection: string;
  source: MailboxStamp;
  destination: MailboxStamp;
  /** Source UID → destination UID, as runs [sourceStart, destinationStart, length], sorted by source UID. */
  copies: [number, number, number][];
  /** Destination messages below `destination.uidNext` that are no copy of a source message. */
  unclaimed: number[];
}

/** Where a mailbox stood: together these change whenever a message arrives, goes, or changes flags. */
export interface MailboxStamp {
  /** As a decimal string: UIDVALIDITY is a 32-bit unsigned number, kept exact. */
  uidValidity: string;
  uidNext: number;
  /** Null where the server has no CONDSTORE (flag changes are then found by reading every flag). */
  highestModseq: string | null;
  /** Messages below `uidNext` when the stamp was taken. */
  messages: number;
}

/** One line on the state channel from the engine: a folder's new state, or that it has none now. */
export type StateUpdate = { kind: "folder"; state: FolderSyncState } | ForgetUpdate;

export interface ForgetUpdate {
  kind: "forget";
  sourceFolder: string;
  destinationFolder: string;
}

/**
 * The options that decide which source messages the destination should hold, as one string. Age
 * filters are not in it because a run with them never uses or records state: which messages they select
 * changes with the clock, not with the mailbox.
 */
export function selectionKey(args: SyncArgs): string {
  return JSON.stringify([args.maxSize ?? null, args.minSize ?? null, args.skipSize, args.addHeader]);
}

/** Whether this run may use and record incremental state at all. */
export function stateApplies(args: SyncArgs): boolean {
  return !args.dry && !args.justFolders && args.maxAgeDays === undefined && args.minAgeDays === undefined;
}

/** Source UID → destination UID pairs as runs; consecutive UIDs on both sides make one run. */
export function toRuns(pairs: Map<number, number>): [number, number, number][] {
  const sorted = [...pairs].sort((a, b) => a[0] - b[0]);
  const runs: [number, number, number][] = [];
  for (const [source, destination] of sorted) {
    const last = runs[runs.length - 1];
    if (last && last[0] + last[2] === source && last[1] + last[2] === destination) {
      last[2] += 1;
    } else {
      runs.push([source, destination, 1]);
    }
  }
  return runs;
}

export function fromRuns(runs: readonly (readonly [number, number, number])[]): Map<number, number> {
  const pairs = new Map<number, number>();
  for (const [source, destination, length] of runs) {
    for (let i = 0; i < length; i++) pairs.set(source + i, destination + i);
  }
  return pairs;
}

/** Key of a folder pair in the state handed to the engine. */
export function folderPairKey(sourceFolder: string, destinationFolder: string): string {
  return JSON.stringify([sourceFolder, destinationFolder]);
}

function isStamp(value: unknown): value is MailboxStamp {
  const v = value as Partial<MailboxStamp> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.uidValidity === "string" &&
    Number.isInteger(v.uidNext) &&
    Number.isInteger(v.messages) &&
    (v.highestModseq === null || typeof v.highestModseq === "string")
  );
}

/** A stored record, if it has the shape this engine writes; anything else is ignored (advisory). */
export function parseFolderState(value: unknown): FolderSyncState | undefined {
  const v = value as Partial<FolderSyncState> | null;
  if (
    typeof v !== "object" ||
    v === null ||
    typeof v.sourceFolder !== "string" ||
    typeof v.destinationFolder !== "string" ||
    typeof v.selection !== "string" ||
    !isStamp(v.source) ||
    !isStamp(v.destination) ||
    !Array.isArray(v.copies) ||
    !Array.isArray(v.unclaimed)
  ) {
    return undefined;
  }
  const runsOk = v.copies.every(
    (run) => Array.isArray(run) && run.length === 3 && run.every((n) => Number.isInteger(n) && n > 0),
  );
  const unclaimedOk = v.unclaimed.every((n) => Number.isInteger(n) && n > 0);
  return runsOk && unclaimedOk ? (v as FolderSyncState) : undefined;
}

/** A line from the state channel, if it has the shape of an update; anything else is ignored (advisory). */
export function parseStateUpdate(value: unknown): StateUpdate | undefined {
  const update = value as Partial<StateUpdate> | null;
  if (typeof update !== "object" || update === null) return undefined;
  if (update.kind === "folder") {
    const state = parseFolderState((update as { state?: unknown }).state);
    return state ? { kind: "folder", state } : undefined;
  }
  const forget = update as Partial<ForgetUpdate>;
  return forget.kind === "forget" &&
    typeof forget.sourceFolder === "string" &&
    typeof forget.destinationFolder === "string"
    ? { kind: "forget", sourceFolder: forget.sourceFolder, destinationFolder: forget.destinationFolder }
    : undefined;
}

/** Folder states by folder pair: those a run started from, with what it reported applied. */
export class FolderStates {
  private readonly states = new Map<string, FolderSyncState>();

  constructor(records: readonly unknown[] = []) {
    for (const record of records) {
      const state = parseFolderState(record);
      if (state) this.states.set(folderPairKey(state.sourceFolder, state.destinationFolder), state);
    }
  }

  apply(line: unknown): void {
    const update = parseStateUpdate(line);
    if (update?.kind === "folder") {
      this.states.set(folderPairKey(update.state.sourceFolder, update.state.destinationFolder), update.state);
    } else if (update) {
      this.states.delete(folderPairKey(update.sourceFolder, update.destinationFolder));
    }
  }

  lookup(sourceFolder: string, destinationFolder: string): FolderSyncState | undefined {
    return this.states.get(folderPairKey(sourceFolder, destinationFolder));
  }

  all(): FolderSyncState[] {
    return [...this.states.values()];
  }
}
