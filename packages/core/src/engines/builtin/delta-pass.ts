import type { ImapFlow } from "imapflow";
import { storableFlags } from "./append-messages.ts";
import { compareWithDestination } from "./compare-messages.ts";
import { CopiesByIdentity } from "./copies-by-identity.ts";
import type { FolderPassResult } from "./copy-ledger.ts";
import { CopyLedger, readStamp, stampOf } from "./copy-ledger.ts";
import { copyMessages } from "./copy-pipeline.ts";
import type { FlagUpdate } from "./destination-upkeep.ts";
import { deleteOnDestination, resyncFlags } from "./destination-upkeep.ts";
import type { ExaminedFolder } from "./examine-folder.ts";
import { examine } from "./examine-folder.ts";
import type { FolderPlan } from "./folder-plan.ts";
import type { FolderSyncContext } from "./folder-sync-context.ts";
import type { ScannedMessage } from "./mailbox-scan.ts";
import {
  identifyMessages,
  scanUidRange,
  scanUids,
  sharedHeaderKeys,
  UIDS_PER_FETCH,
  uidSets,
} from "./mailbox-scan.ts";
import { folderLabel } from "./output-format.ts";
import { errorText } from "./server-errors.ts";
import type { FolderSyncState, MailboxStamp } from "./sync-state.ts";
import { fromRuns } from "./sync-state.ts";

/*
 * A pass over a folder from its stored state, instead of reading every message's headers on both
 * sides. IMAP makes this exact: under one UIDVALIDITY a UID always names the same message, new
 * messages only ever get UIDs from UIDNEXT up, and (with CONDSTORE) every flag change and expunge
 * raises HIGHESTMODSEQ. So:
 *   - both stamps unchanged: nothing happened; one STATUS per side;
 *   - otherwise only what changed is read: the source's new UID range, its flag changes
 *     (CHANGEDSINCE), which old UIDs are gone (UID SEARCH, only when the count says some are), and the
 *     same on the destination, where messages that arrived behind our back are candidates for the new
 *     source messages and copies that vanished are copied again.
 * The state is advisory: whatever it cannot explain (a new UIDVALIDITY, more old messages than it
 * recorded, extra destination messages under --delete2) sends the folder to the full comparison,
 * before anything is written.
 */

export type DeltaOutcome =
  | { kind: "unchanged" }
  | { kind: "synced"; result: FolderPassResult | undefined }
  | { kind: "full"; reason: string };

function full(reason: string): DeltaOutcome {
  return { kind: "full", reason };
}

/** Both stamps as stored: no message came, went, or (where CONDSTORE tells) changed flags. */
function unchanged(now: MailboxStamp, then: MailboxStamp, flagsMatter: boolean): boolean {
  return (
    now.uidNext === then.uidNext &&
    now.messages === then.messages &&
    now.highestModseq === then.highestModseq &&
    (!flagsMatter || now.highestModseq !== null)
  );
}

/** UIDs of the selected mailbox within 1..(uidNext - 1) that are still there. */
async function presentUids(client: ImapFlow, uidNext: number): Promise<Set<number>> {
  if (uidNext <= 1) return new Set();
  const found = await client.search({ uid: `1:${uidNext - 1}` }, { uid: true });
  return new Set(found || []);
}

/**
 * Flags of the selected mailbox's messages below `uidNext`: those changed since `modseq` where it is
 * given (CONDSTORE), else all of them.
 */
async function flagsBelow(
  client: ImapFlow,
  uidNext: number,
  modseq: string | null,
): Promise<Map<number, string[]>> {
  const flags = new Map<number, string[]>();
  if (uidNext <= 1) return flags;
  const rows = client.fetch(
    `1:${uidNext - 1}`,
    { uid: true, flags: true },
    { uid: true, ...(modseq !== null ? { changedSince: BigInt(modseq) } : {}) },
  );
  for await (const row of rows) {
    if (row.uid < uidNext) flags.set(row.uid, storableFlags(row.flags ?? []).sort());
  }
  return flags;
}

/** Flags of these UIDs of the selected mailbox. */
async function flagsOf(client: ImapFlow, uids: number[]): Promise<Map<number, string[]>> {
  const flags = new Map<number, string[]>();
  const wanted = new Set(uids);
  for (const set of uidSets(
    [...wanted].sort((a, b) => a - b),
    UIDS_PER_FETCH,
  )) {
    for await (const row of client.fetch(set, { uid: true, flags: true }, { uid: true })) {
      if (wanted.has(row.uid)) flags.set(row.uid, storableFlags(row.flags ?? []).sort());
    }
  }
  return flags;
}

/** The modseq a CHANGEDSINCE can start from, or null to read every flag (no CONDSTORE on a side). */
function changedSince(opened: ExaminedFolder, stored: MailboxStamp): string | null {
  return opened.highestModseq !== undefined && stored.highestModseq !== null ? stored.highestModseq : null;
}

/**
 * The flag updates that bring these pairs' destination flags in line with the source's. Flags read
 * already (the CHANGEDSINCE answers) are used; the other side's are fetched for just those UIDs.
 */
async function flagChanges(
  source: ImapFlow,
  destination: ImapFlow,
  copies: Map<number, number>,
  recheck: number[],
  sourceFlags: Map<number, string[]>,
  destinationFlags: Map<number, string[]>,
): Promise<FlagUpdate[]> {
  const destinationOf = (sourceUid: number) => copies.get(sourceUid) as number;
  const sourceToRead = recheck.filter((uid) => !sourceFlags.has(uid));
  const destinationToRead = recheck.map(destinationOf).filter((uid) => !destinationFlags.has(uid));
  for (const [uid, flags] of await flagsOf(source, sourceToRead)) sourceFlags.set(uid, flags);
  for (const [uid, flags] of await flagsOf(destination, destinationToRead)) destinationFlags.set(uid, flags);
  const updates: FlagUpdate[] = [];
  for (const sourceUid of [...recheck].sort((a, b) => a - b)) {
    const destinationUid = destinationOf(sourceUid);
    const to = sourceFlags.get(sourceUid);
    const from = destinationFlags.get(destinationUid);
    if (to && from && to.join(" ") !== from.join(" ")) updates.push({ sourceUid, destinationUid, from, to });
  }
  return updates;
}

export async function deltaPass(
  ctx: FolderSyncContext,
  plan: FolderPlan,
  prior: FolderSyncState,
): Promise<DeltaOutcome> {
  const { session, source, destination } = ctx;
  const args = session.args;
  const sourceLabel = folderLabel(plan.source.wireName, plan.source.path);
  const destinationLabel = folderLabel(plan.destinationWireName, plan.destinationPath);
  if (!ctx.destinationPaths.has(plan.destinationPath)) {
    return full("the destination folder is gone");
  }
  let sourceNow: MailboxStamp | undefined;
  let destinationNow: MailboxStamp | undefined;
  try {
    [sourceNow, destinationNow] = await Promise.all([
      readStamp(source, plan.source.path),
      readStamp(destination, plan.destinationPath),
    ]);
  } catch (e: unknown) {
    return full(`STATUS failed (${errorText(e)})`);
  }
  if (!sourceNow || !destinationNow)
    return full("a server did not answer STATUS with UIDVALIDITY and UIDNEXT");
  if (sourceNow.uidValidity !== prior.source.uidValidity)
    return full("the source folder's UIDVALIDITY changed");
  if (destinationNow.uidValidity !== prior.destination.uidValidity) {
    return full("the destination folder's UIDVALIDITY changed");
  }
  if (args.deleteOnDestination && prior.unclaimed.length > 0) {
    // --delete2 removes destination messages no source message has; telling those from duplicates of
    // source messages needs every source identity, which is the full comparison.
    return full("the destination holds messages that are no copy, and --delete2 is on");
  }
  const c = session.counters;
  const copies = fromRuns(prior.copies);
  if (
    unchanged(sourceNow, prior.source, args.resyncFlags) &&
    unchanged(destinationNow, prior.destination, args.resyncFlags)
  ) {
    session.write(
      `Host1: folder ${sourceLabel} has ${sourceNow.messages} messages in total (mentioned by STATUS), unchanged since the last pass`,
    );
    session.write(
      `Host2: folder ${destinationLabel} has ${destinationNow.messages} messages in total (mentioned by STATUS), unchanged since the last pass`,
    );
    c.processed += sourceNow.messages;
    c.skipped += copies.size;
    c.identifiedHost1 += sourceNow.messages;
    c.identifiedHost2 += destinationNow.messages;
    // Nothing to store either: the stored state is still exactly right.
    return { kind: "unchanged" };
  }
  try {
    return await changedPass(ctx, plan, prior, copies, { source: sourceNow, destination: destinationNow });
  } catch (e: unknown) {
    // Only reads happen before the first write, and every read failure lands here before one.
    if (e instanceof WriteStarted) throw e.cause;
    return full(`reading the changes failed (${errorText(e)})`);
  }
}

/** Wraps a failure after the pass started writing: it is the pass's error, not a reason to compare in full. */
class WriteStarted extends Error {
  override readonly name = "WriteStarted";
}

/** What changed in one folder since its stamp, as far as reading only the changes tells. */
interface SideChanges {
  folder: ExaminedFolder;
  /** Messages from the stamp's UIDNEXT on. */
  arrived: ScannedMessage[];
  /** The UIDs below the stamp's UIDNEXT still there; only read when the count says some are gone. */
  present: Set<number> | undefined;
  /** Flags changed since the stamp's HIGHESTMODSEQ (all flags without CONDSTORE; none unless resyncing). */
  flags: Map<number, string[]>;
  /** Whether the folder was opened: a side whose STATUS shows no change is not, until something needs it. */
  opened: boolean;
}

/**
 * Reads one side's changes; a string says why the state cannot explain what is there. A side whose
 * STATUS (`now`) matches its stamp has none, and is not even opened: in a large Maildir folder every
 * SELECT costs the server a sync of the folder's directory.
 */
async function readChanges(
  client: ImapFlow,
  path: string,
  stamp: MailboxStamp,
  now: MailboxStamp,
  side: "source" | "destination",
  args: FolderSyncContext["session"]["args"],
): Promise<SideChanges | string> {
  if (unchanged(now, stamp, args.resyncFlags)) {
    const folder: ExaminedFolder = {
      exists: now.messages,
      uidValidity: BigInt(now.uidValidity),
      uidNext: now.uidNext,
      ...(now.highestModseq !== null ? { highestModseq: BigInt(now.highestModseq) } : {}),
    };
    return { folder, arrived: [], present: undefined, flags: new Map(), opened: false };
  }
  const folder = await examine(client, path);
  if (folder.uidValidity.toString() !== stamp.uidValidity) {
    return `the ${side} folder's UIDVALIDITY changed`;
  }
  const arrived = await scanUidRange(client, stamp.uidNext, folder.uidNext - 1, args.skipSize);
  // UIDs below UIDNEXT can only go, never come: fewer old messages means some went, more is impossible.
  const old = folder.exists - arrived.length;
  if (old > stamp.messages) return `the ${side} has old messages the state does not know`;
  const present = old < stamp.messages ? await presentUids(client, stamp.uidNext) : undefined;
  const flags = args.resyncFlags
    ? await flagsBelow(client, stamp.uidNext, changedSince(folder, stamp))
    : new Map<number, string[]>();
  return { folder, arrived, present, flags, opened: true };
}

async function changedPass(
  ctx: FolderSyncContext,
  plan: FolderPlan,
  prior: FolderSyncState,
  copies: Map<number, number>,
  now: { source: MailboxStamp; destination: MailboxStamp },
): Promise<DeltaOutcome> {
  const { session, source, destination } = ctx;
  const args = session.args;
  const sourceLabel = folderLabel(plan.source.wireName, plan.source.path);
  const destinationLabel = folderLabel(plan.destinationWireName, plan.destinationPath);

  // --- Reads, both sides at once. Nothing is written until the pass can explain everything it sees.
  const [sourceSide, destinationSide] = await Promise.all([
    readChanges(source, plan.source.path, prior.source, now.source, "source", args),
    readChanges(destination, plan.destinationPath, prior.destination, now.destination, "destination", args),
  ]);
  if (typeof sourceSide === "string") return full(sourceSide);
  if (typeof destinationSide === "string") return full(destinationSide);
  /** Opens a side that had no changes to read, once something needs its messages after all. */
  async function open(side: SideChanges, client: ImapFlow, path: string): Promise<void> {
    if (!side.opened) {
      await examine(client, path);
      side.opened = true;
    }
  }
  const { folder: sourceFolder, arrived: newOnSource, flags: sourceFlags } = sourceSide;
  const { folder: destinationFolder, arrived: newOnDestination, flags: destinationFlags } = destinationSide;
  session.write(
    `Host1: folder ${sourceLabel} has ${sourceFolder.exists} messages in total (mentioned by SELECT)`,
  );
  session.write(
    `Host2: folder ${destinationLabel} has ${destinationFolder.exists} messages in total (mentioned by SELECT)`,
  );
  const sourceGone = new Set<number>();
  if (sourceSide.present) {
    for (const sourceUid of copies.keys()) if (!sourceSide.present.has(sourceUid)) sourceGone.add(sourceUid);
  }
  let unclaimed = prior.unclaimed;
  // Source messages whose copy is no longer on the destination (deleted behind our back).
  const lostCopies: number[] = [];
  const destinationPresent = destinationSide.present;
  if (destinationPresent) {
    for (const [sourceUid, destinationUid] of copies) {
      if (!destinationPresent.has(destinationUid)) {
        copies.delete(sourceUid);
        if (!sourceGone.has(sourceUid)) lostCopies.push(sourceUid);
      }
    }
    unclaimed = unclaimed.filter((uid) => destinationPresent.has(uid));
  }

  // Source messages that need a copy: the new ones and those whose copy vanished. Candidates on the
  // destination: what arrived there since, and what was there before without being a copy.
  if (lostCopies.length > 0) await open(sourceSide, source, plan.source.path);
  const lostOnSource = lostCopies.length > 0 ? await scanUids(source, lostCopies, args.skipSize) : [];
  const needing = [...lostOnSource, ...newOnSource].sort((a, b) => a.uid - b.uid);
  const scanUnclaimed = (needing.length > 0 || args.deleteOnDestination) && unclaimed.length > 0;
  if (scanUnclaimed) await open(destinationSide, destination, plan.destinationPath);
  const candidates =
    needing.length > 0 || args.deleteOnDestination
      ? [
          ...(unclaimed.length > 0 ? await scanUids(destination, unclaimed, args.skipSize) : []),
          ...newOnDestination,
        ]
      : newOnDestination;
  if (needing.length > 0) {
    const shared = sharedHeaderKeys(needing);
    await identifyMessages(source, needing, shared, args.skipSize);
    await identifyMessages(destination, candidates, shared, args.skipSize);
  }
  // Pairs whose source or destination flags changed since the stamps (every pair without CONDSTORE),
  // taken before the comparison adds the pairs it finds (their flags are compared there).
  const recheck: number[] = [];
  for (const [sourceUid, destinationUid] of copies) {
    if (!sourceGone.has(sourceUid) && (sourceFlags.has(sourceUid) || destinationFlags.has(destinationUid))) {
      recheck.push(sourceUid);
    }
  }
  const stillThere = [...copies.keys()].filter((uid) => !sourceGone.has(uid)).length;
  const ledger = new CopyLedger(
    { uidValidity: destinationFolder.uidValidity.toString(), uidNext: destinationFolder.uidNext },
    [...copies.values(), ...unclaimed, ...newOnDestination.map((message) => message.uid)],
    copies,
  );
  const folderCtx: FolderSyncContext = { ...ctx, ledger };
  const onDestination = new CopiesByIdentity(candidates);
  const comparison = compareWithDestination(folderCtx, plan, needing, onDestination, new Map());
  if (args.deleteOnDestination && onDestination.left > 0) {
    return full("the destination holds messages that are no copy, and --delete2 is on");
  }
  if (recheck.length > 0) {
    await open(sourceSide, source, plan.source.path);
    await open(destinationSide, destination, plan.destinationPath);
  }
  const flagUpdates = [
    ...comparison.flagUpdates,
    ...(await flagChanges(source, destination, copies, recheck, sourceFlags, destinationFlags)),
  ];
  await destination.mailboxClose().catch(() => false);

  // --- Writes.
  const c = session.counters;
  c.processed += sourceFolder.exists - needing.length;
  c.skipped += stillThere;
  c.identifiedHost1 += sourceFolder.exists;
  c.identifiedHost2 += destinationFolder.exists;
  c.duplicatesHost1 += comparison.duplicatesHost1;
  session.write(
    `Host1: folder ${sourceLabel} since the last pass: ${newOnSource.length} new, ${sourceGone.size} gone, ${recheck.length} to check for flag changes`,
  );
  session.write(
    `Host2: folder ${destinationLabel} since the last pass: ${newOnDestination.length} new, ${lostCopies.length} copies gone`,
  );
  try {
    if (flagUpdates.length > 0) await resyncFlags(ctx, plan, flagUpdates);
    const copiesOfGone = [...sourceGone].flatMap((uid) => {
      const destinationUid = copies.get(uid);
      copies.delete(uid);
      return destinationUid === undefined ? [] : [destinationUid];
    });
    // A source message that is gone leaves its copy unclaimed, unless --delete2 removes it.
    if (args.deleteOnDestination) ledger.deleted(await deleteOnDestination(ctx, plan, copiesOfGone));
    if (comparison.wanted.length > 0) {
      const copied = await copyMessages(folderCtx, plan, comparison.wanted);
      c.missingOnHost2 += comparison.wanted.length - copied;
    }
  } catch (e: unknown) {
    throw new WriteStarted("write failed", { cause: e });
  }
  const sourceStamp = stampOf({ ...sourceFolder, messages: sourceFolder.exists });
  return { kind: "synced", result: sourceStamp ? { source: sourceStamp, ledger } : undefined };
}
