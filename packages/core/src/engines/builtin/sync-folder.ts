import { compareWithDestination, withinAgeAndSize } from "./compare-messages.ts";
import { CopiesByIdentity } from "./copies-by-identity.ts";
import type { FolderPassResult } from "./copy-ledger.ts";
import { CopyLedger, stampOf } from "./copy-ledger.ts";
import { copyMessages } from "./copy-pipeline.ts";
import { deltaPass } from "./delta-pass.ts";
import { deleteExtraMessages, resyncFlags } from "./destination-upkeep.ts";
import type { ExaminedFolder } from "./examine-folder.ts";
import { examine } from "./examine-folder.ts";
import type { FolderPlan } from "./folder-plan.ts";
import type { FolderSyncContext } from "./folder-sync-context.ts";
import { ancestorPaths } from "./mailbox-name.ts";
import type { ScannedMessage } from "./mailbox-scan.ts";
import { identifyMessages, scanMailbox, sharedHeaderKeys } from "./mailbox-scan.ts";
import { folderLabel, formatDryCopyLine, formatFolderLine } from "./output-format.ts";
import { errorText } from "./server-errors.ts";
import type { FolderSyncState } from "./sync-state.ts";
import { selectionKey, stateApplies } from "./sync-state.ts";

/**
 * Where a destination folder stands before its messages are compared: there, missing only
 * because --dry creates nothing (the real run would create it empty), or missing after a
 * failed create.
 */
export type DestinationFolderState = "exists" | "would-be-created" | "missing";

/** Creates a destination folder; if the server wants the parents first, creates those too. */
async function createDestinationFolder(
  ctx: FolderSyncContext,
  plan: FolderPlan,
): Promise<DestinationFolderState> {
  const { session, destination } = ctx;
  const label = folderLabel(plan.destinationWireName, plan.destinationPath);
  session.write(`Creating folder ${label} on host2`);
  if (session.args.dry) {
    session.write(`Created folder ${label} on host2 \t(not really since --dry mode)`);
    // imapsync skips such folders under --dry, so its "could be N" undercounts whatever is not
    // migrated yet; a dry run sizes a migration, so it compares against the empty folder the
    // real run would create and names exactly the messages that run copies.
    session.write(
      `Since --dry mode is on and folder ${label} on host2 does not exist yet, syncing messages is simulated against an empty folder.`,
    );
    return "would-be-created";
  }
  try {
    await destination.mailboxCreate(plan.destinationPath);
  } catch (first: unknown) {
    // RFC 3501 lets a server refuse to create a child before its parent; most create the
    // parents themselves, so they are only created explicitly when the server asks for it.
    try {
      for (const ancestor of ancestorPaths(plan.destinationPath, ctx.destinationDelimiter)) {
        if (!ctx.destinationPaths.has(ancestor)) {
          session.write(`Creating folder [${ancestor}] on host2`);
          await destination.mailboxCreate(ancestor);
          ctx.destinationPaths.add(ancestor);
          session.write(`Created folder [${ancestor}] on host2`);
        }
      }
      await destination.mailboxCreate(plan.destinationPath);
    } catch {
      session.error("ERR_CREATE", `Host2: could not create folder ${label}: ${errorText(first)}`);
      return "missing";
    }
  }
  ctx.destinationPaths.add(plan.destinationPath);
  session.write(`Created folder ${label} on host2`);
  return "exists";
}

/**
 * imapsync's --subscribe (on by default): a folder the user subscribed to on the source is
 * subscribed on the destination too, or mail clients that show subscribed folders only would
 * show none of the migrated ones. --subscribeall subscribes every synced folder.
 */
async function subscribeLikeSource(ctx: FolderSyncContext, plan: FolderPlan): Promise<void> {
  const { session, destination } = ctx;
  const wanted = session.args.subscribeAll || (session.args.subscribe && plan.source.subscribed);
  if (!wanted || ctx.subscribedPaths.has(plan.destinationPath) || session.args.dry) {
    return;
  }
  const label = folderLabel(plan.destinationWireName, plan.destinationPath);
  try {
    await destination.mailboxSubscribe(plan.destinationPath);
    ctx.subscribedPaths.add(plan.destinationPath);
    session.write(`Host2: subscribing to folder ${label}`);
  } catch (e: unknown) {
    session.write(`Host2: could not subscribe to folder ${label}: ${errorText(e)}`);
  }
}

/**
 * Makes sure the destination folder exists (creating it unless --dry) and is subscribed like the
 * source's.
 */
export async function ensureDestinationFolder(
  ctx: FolderSyncContext,
  plan: FolderPlan,
): Promise<DestinationFolderState> {
  const state = ctx.destinationPaths.has(plan.destinationPath)
    ? "exists"
    : await createDestinationFolder(ctx, plan);
  if (state === "exists") {
    await subscribeLikeSource(ctx, plan);
  }
  return state;
}

/**
 * Selects the destination folder and returns its message count, or undefined (after logging why)
 * when it cannot be selected. A folder --dry would have created counts as the empty folder the
 * real run starts from.
 */
async function openDestination(
  ctx: FolderSyncContext,
  plan: FolderPlan,
  state: "exists" | "would-be-created",
): Promise<ExaminedFolder | undefined> {
  const { session, destination } = ctx;
  const label = folderLabel(plan.destinationWireName, plan.destinationPath);
  if (state === "would-be-created") {
    session.write(`Host2: folder ${label} has 0 messages in total (not created since --dry mode)`);
    return { exists: 0, uidValidity: 0n, uidNext: 1 };
  }
  try {
    const mailbox = await examine(destination, plan.destinationPath);
    session.write(`Host2: folder ${label} has ${mailbox.exists} messages in total (mentioned by SELECT)`);
    session.write(`Host2: folder ${label} permanentflags: ${[...(mailbox.permanentFlags ?? [])].join(" ")}`);
    return mailbox;
  } catch (e: unknown) {
    session.error("ERR_SELECT", `Host2: could not select folder ${label}: ${errorText(e)}`);
    return undefined;
  }
}

/** Syncs one folder: select, compare, then stream what is missing from source to destination. */
/**
 * Syncs one folder: from its incremental state when it has one that still holds (see delta-pass.ts),
 * else select, compare in full, then stream what is missing from source to destination. Returns what
 * the pass knows for the folder's next state, "unchanged" when its stored state still holds as it is,
 * or undefined when it has nothing trustworthy to say.
 */
export async function syncFolder(
  ctx: FolderSyncContext,
  plan: FolderPlan,
  index: number,
  total: number,
): Promise<FolderPassResult | "unchanged" | undefined> {
  const { session } = ctx;
  const sourceLabel = folderLabel(plan.source.wireName, plan.source.path);
  const destinationLabel = folderLabel(plan.destinationWireName, plan.destinationPath);
  session.write(formatFolderLine(index, total, sourceLabel, destinationLabel));
  const prior = priorState(ctx, plan);
  if (prior && ctx.destinationPaths.has(plan.destinationPath)) {
    // As the full pass does: a folder the user subscribed to on the source since is subscribed here too.
    await ensureDestinationFolder(ctx, plan);
  }
  if (prior) {
    const delta = await deltaPass(ctx, plan, prior);
    if (delta.kind === "unchanged") {
      return "unchanged";
    }
    if (delta.kind === "synced") {
      return delta.result;
    }
    session.write(`Host1: folder ${sourceLabel} compared in full: ${delta.reason}`);
  }
  return fullPass(ctx, plan);
}

/** The stored state of this folder pair, when this run may use state and it was kept under the same selection. */
function priorState(ctx: FolderSyncContext, plan: FolderPlan): FolderSyncState | undefined {
  const { session } = ctx;
  if (!session.io.state || !stateApplies(session.args)) return undefined;
  const prior = session.io.state.lookup(plan.source.path, plan.destinationPath);
  return prior && prior.selection === selectionKey(session.args) ? prior : undefined;
}

/** A source folder's identified scan, kept for the passes after a reconnect within the same run. */
interface SourceScan {
  folder: ExaminedFolder;
  messages: ScannedMessage[];
  shared: Set<string>;
}

/** Keyed by the plan, which lives as long as the run: a new run scans afresh. */
const earlierSourceScans = new WeakMap<FolderPlan, SourceScan>();

function sameFolderState(a: ExaminedFolder, b: ExaminedFolder): boolean {
  return a.uidValidity === b.uidValidity && a.uidNext === b.uidNext && a.exists === b.exists;
}

async function fullPass(ctx: FolderSyncContext, plan: FolderPlan): Promise<FolderPassResult | undefined> {
  const { session, source, destination } = ctx;
  const sourceLabel = folderLabel(plan.source.wireName, plan.source.path);
  const destinationLabel = folderLabel(plan.destinationWireName, plan.destinationPath);
  const destinationName = plan.destinationWireName;
  const sourceName = plan.source.wireName;

  let sourceFolder: ExaminedFolder;
  try {
    // EXAMINE: the source is opened read-only, so nothing (not even \Seen) can change on it.
    sourceFolder = await examine(source, plan.source.path);
  } catch (e: unknown) {
    session.error("ERR_SELECT", `Host1: could not select folder ${sourceLabel}: ${errorText(e)}`);
    return undefined;
  }
  const sourceExists = sourceFolder.exists;
  session.write(`Host1: folder ${sourceLabel} has ${sourceExists} messages in total (mentioned by SELECT)`);
  if (session.stopping) {
    return undefined;
  }

  if (sourceExists === 0 && session.args.skipEmptyFolders) {
    session.write(`Host1: skipping empty folder ${sourceLabel} (--skipemptyfolders)`);
    return undefined;
  }
  const state = await ensureDestinationFolder(ctx, plan);
  if (state === "missing") {
    // A failed create: the folder's messages count as not on host2.
    session.counters.processed += sourceExists;
    session.counters.missingOnHost2 += sourceExists;
    return undefined;
  }

  const destinationFolder = await openDestination(ctx, plan, state);
  if (destinationFolder === undefined) {
    session.counters.processed += sourceExists;
    return undefined;
  }

  // A real copy into an empty folder compares against nothing: every selected source message is copied.
  // Its source messages need no identity then, and their headers are not read: on a server whose cache
  // is cold that read opens every message file once more before the copy reads it. (A dry run may
  // compare against what an earlier folder merged into the same one would copy; --addheader must know
  // which messages have no Message-Id.)
  const comparing = destinationFolder.exists > 0 || session.args.dry || session.args.addHeader;
  let sourceMessages: ScannedMessage[];
  let destinationMessages: ScannedMessage[];
  try {
    // A pass after a dropped connection finds the source folder as the cut pass left it (same
    // UIDVALIDITY, UIDNEXT and count): its scan is reused and only the destination, which the cut
    // pass changed, is read again. The rescan was most of a reconnect's cost on a big folder.
    const earlier = earlierSourceScans.get(plan);
    const reusable = earlier && sameFolderState(earlier.folder, sourceFolder) ? earlier : undefined;
    const scanning = Promise.all([
      reusable
        ? Promise.resolve(reusable.messages)
        : scanMailbox(source, sourceExists, session.args.skipSize, comparing),
      scanMailbox(destination, destinationFolder.exists, session.args.skipSize),
    ]);
    [sourceMessages, destinationMessages] = await scanning;
    if (comparing) {
      const shared = reusable?.shared ?? sharedHeaderKeys(sourceMessages);
      await Promise.all([
        reusable
          ? Promise.resolve()
          : identifyMessages(source, sourceMessages, shared, session.args.skipSize),
        identifyMessages(destination, destinationMessages, shared, session.args.skipSize),
      ]);
      // Only an identified scan serves a later pass, which finds the copies this one made.
      earlierSourceScans.set(plan, { folder: sourceFolder, messages: sourceMessages, shared });
    }
  } catch (e: unknown) {
    session.error("ERR_FETCH", `Host1: could not read the headers of folder ${sourceLabel}: ${errorText(e)}`);
    session.counters.processed += sourceExists;
    return undefined;
  }
  if (session.stopping) {
    return undefined;
  }
  // Appends do not need the destination selected, and a selected mailbox would make the server
  // send an EXISTS per saved message.
  await destination.mailboxClose().catch(() => false);

  const selected = sourceMessages.filter((message) => withinAgeAndSize(session, message));
  session.counters.processed += sourceMessages.length - selected.length;
  session.write(`Host1: folder ${sourceLabel} considering ${selected.length} messages`);
  session.write(`Host2: folder ${destinationLabel} considering ${destinationMessages.length} messages`);

  const ledger = new CopyLedger(
    { uidValidity: destinationFolder.uidValidity.toString(), uidNext: destinationFolder.uidNext },
    destinationMessages.map((message) => message.uid),
  );
  const folderCtx: FolderSyncContext = { ...ctx, ledger };
  // Count-aware: a folder holding a message twice needs it twice on the destination, so each
  // destination copy answers for one source message only, in UID order.
  const onDestination = new CopiesByIdentity(destinationMessages);
  const duplicatesHost2 = onDestination.duplicates;
  const simulated = ctx.wouldCopy.get(plan.destinationPath) ?? new Map<string, number>();
  ctx.wouldCopy.set(plan.destinationPath, simulated);
  const { wanted, flagUpdates, duplicatesHost1 } = compareWithDestination(
    folderCtx,
    plan,
    selected,
    onDestination,
    simulated,
  );
  const c = session.counters;
  c.duplicatesHost1 += duplicatesHost1;
  c.duplicatesHost2 += duplicatesHost2;
  c.identifiedHost1 += selected.length;
  c.identifiedHost2 += destinationMessages.length;
  c.missingOnHost1 += onDestination.left;
  if (flagUpdates.length > 0) {
    await resyncFlags(ctx, plan, flagUpdates);
  }
  if (session.args.deleteOnDestination) {
    ledger.deleted(await deleteExtraMessages(ctx, plan, sourceMessages, destinationMessages));
  }
  session.write(
    comparing
      ? `Host1: folder ${sourceLabel} selected ${selected.length} messages, duplicates ${duplicatesHost1}`
      : `Host1: folder ${sourceLabel} selected ${selected.length} messages, all to copy (the destination folder is empty, duplicates not counted)`,
  );
  session.write(
    `Host2: folder ${destinationLabel} selected ${destinationMessages.length} messages, duplicates ${duplicatesHost2}`,
  );

  if (session.args.dry) {
    for (const message of wanted) {
      session.write(formatDryCopyLine(sourceName, message.uid, destinationName));
      c.wouldTransfer += 1;
      c.processed += 1;
    }
    c.missingOnHost2 += wanted.length;
    return undefined;
  }
  if (wanted.length > 0) {
    const copied = await copyMessages(folderCtx, plan, wanted);
    c.missingOnHost2 += wanted.length - copied;
  }
  const sourceStamp = stampOf({ ...sourceFolder, messages: sourceExists });
  return sourceStamp ? { source: sourceStamp, ledger } : undefined;
}
