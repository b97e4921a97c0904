import type { CopiesByIdentity } from "./copies-by-identity.ts";
import { copyIdentity, takeCopy } from "./copies-by-identity.ts";
import type { WantedMessage } from "./copy-pipeline.ts";
import type { FlagUpdate } from "./destination-upkeep.ts";
import type { FolderPlan } from "./folder-plan.ts";
import type { FolderSyncContext } from "./folder-sync-context.ts";
import type { ScannedMessage } from "./mailbox-scan.ts";
import type { SyncSession } from "./sync-session.ts";

/** Under --dry, whether an earlier folder merged into the same destination would have copied it. */
function takeSimulated(simulated: Map<string, number>, identity: string): boolean {
  const count = simulated.get(identity) ?? 0;
  if (count === 0) return false;
  simulated.set(identity, count - 1);
  return true;
}

export function withinAgeAndSize(session: SyncSession, message: ScannedMessage): boolean {
  const { maxAgeDays, minAgeDays } = session.args;
  if (message.internalTime !== undefined && (maxAgeDays !== undefined || minAgeDays !== undefined)) {
    const ageDays = (Date.now() - message.internalTime) / 86_400_000;
    if (maxAgeDays !== undefined && ageDays > maxAgeDays) {
      return false;
    }
    if (minAgeDays !== undefined && ageDays < minAgeDays) {
      return false;
    }
  }
  return true;
}

/** What comparing source messages with the destination's copies decided. */
export interface Comparison {
  /** Source messages to copy, in UID order. */
  wanted: WantedMessage[];
  flagUpdates: FlagUpdate[];
  duplicatesHost1: number;
}

/**
 * Goes through source messages in UID order: each takes its copy on the destination if one is left
 * (count-aware, see copies-by-identity.ts), else is skipped by the size limits or wanted. Counts what
 * is skipped; records each copy found in the ledger.
 */
export function compareWithDestination(
  ctx: FolderSyncContext,
  plan: FolderPlan,
  selected: ScannedMessage[],
  onDestination: CopiesByIdentity,
  simulated: Map<string, number>,
): Comparison {
  const { session } = ctx;
  const sourceName = plan.source.wireName;
  const wouldAdd: string[] = [];
  const seen = new Set<string>();
  const wanted: WantedMessage[] = [];
  const flagUpdates: FlagUpdate[] = [];
  let duplicatesHost1 = 0;
  const c = session.counters;
  for (const message of selected) {
    // --addheader (asked for explicitly) gives a void message imapsync's Message-Id on the way.
    const addHeader = session.args.addHeader && message.headerKey === undefined;
    const identity = copyIdentity(message, session.args.addHeader, session.args.skipSize);
    if (seen.has(identity)) {
      duplicatesHost1 += 1;
    }
    seen.add(identity);
    const tooBig = session.args.maxSize !== undefined && message.size > session.args.maxSize;
    const tooSmall = session.args.minSize !== undefined && message.size < session.args.minSize;
    const copy = takeCopy(onDestination, message, session.args.addHeader, session.args.skipSize);
    if (copy) {
      ctx.ledger?.found(message.uid, copy.uid);
    }
    if (copy && session.args.resyncFlags && copy.flags.join(" ") !== message.flags.join(" ")) {
      flagUpdates.push({
        sourceUid: message.uid,
        destinationUid: copy.uid,
        from: copy.flags,
        to: message.flags,
      });
    }
    if (copy || takeSimulated(simulated, identity)) {
      c.skipped += 1;
      c.bytesSkipped += message.size;
      c.processed += 1;
      continue;
    }
    if (tooBig || tooSmall) {
      // imapsync's own lines, so the parser reads the reason for both engines.
      session.write(
        tooBig
          ? `msg ${sourceName}/${message.uid} skipped (${message.size} exceeds maxsize limit ${session.args.maxSize} bytes)`
          : `msg ${sourceName}/${message.uid} skipped (${message.size} smaller than minsize ${session.args.minSize} bytes)`,
      );
      c.skipped += 1;
      c.bytesSkipped += message.size;
      c.processed += 1;
      continue;
    }
    wanted.push({ uid: message.uid, size: message.size, addHeader });
    if (session.args.dry) {
      // Counted for later folders only: this folder's own duplicates are all copied.
      wouldAdd.push(identity);
    }
  }
  for (const identity of wouldAdd) {
    simulated.set(identity, (simulated.get(identity) ?? 0) + 1);
  }
  return { wanted, flagUpdates, duplicatesHost1 };
}
