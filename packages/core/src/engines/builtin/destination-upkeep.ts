import type { FolderPlan } from "./folder-plan.ts";
import type { FolderSyncContext } from "./folder-sync-context.ts";
import type { ScannedMessage } from "./mailbox-scan.ts";
import { UIDS_PER_FETCH, uidSets } from "./mailbox-scan.ts";
import { addedHeaderIdentity } from "./message-identity.ts";
import { errorText } from "./server-errors.ts";

export interface FlagUpdate {
  sourceUid: number;
  destinationUid: number;
  from: string[];
  to: string[];
}

/**
 * Sets the flags of messages already copied to what they are on the source (read on the source,
 * mail marked read or flagged since the last run), one STORE per distinct flag set.
 */
export async function resyncFlags(
  ctx: FolderSyncContext,
  plan: FolderPlan,
  updates: FlagUpdate[],
): Promise<void> {
  const { session, destination } = ctx;
  const source = plan.source.wireName;
  const folder = plan.destinationWireName;
  const dry = session.args.dry ? " \t(not really since --dry mode)" : "";
  for (const update of updates) {
    session.write(
      `msg ${source}/${update.sourceUid} flags on host2 ${folder}/${update.destinationUid} changed from [${update.from.join(" ")}] to [${update.to.join(" ")}]${dry}`,
    );
  }
  if (session.args.dry) {
    return;
  }
  const byFlags = new Map<string, number[]>();
  for (const update of updates) {
    const key = update.to.join(" ");
    byFlags.set(key, [...(byFlags.get(key) ?? []), update.destinationUid]);
  }
  try {
    await destination.mailboxOpen(plan.destinationPath);
    for (const [key, uids] of byFlags) {
      for (const set of uidSets(
        uids.sort((a, b) => a - b),
        UIDS_PER_FETCH,
      )) {
        await destination.messageFlagsSet(set, key ? key.split(" ") : [], { uid: true });
      }
    }
  } catch (e: unknown) {
    session.error("ERR_OTHER", `Host2: could not update flags in folder [${folder}]: ${errorText(e)}`);
  } finally {
    await destination.mailboxClose().catch(() => false);
  }
}

/**
 * --delete2: removes destination messages whose identity no source message has. Every source
 * message protects its copy, whatever the age and size filters selected, and a header-less one
 * protects both its byte-identical copy and the one --addheader would have made, so a later run
 * without --addheader never deletes what an earlier one copied. Returns the UIDs deleted.
 */
export async function deleteExtraMessages(
  ctx: FolderSyncContext,
  plan: FolderPlan,
  sourceMessages: ScannedMessage[],
  destinationMessages: ScannedMessage[],
): Promise<number[]> {
  const { session } = ctx;
  const onSource = new Set<string>();
  for (const message of sourceMessages) {
    onSource.add(message.identity);
    if (message.headerKey === undefined) {
      onSource.add(addedHeaderIdentity(message.uid, message.size, session.args.skipSize));
    }
  }
  const extra = destinationMessages.filter((message) => !onSource.has(message.identity));
  return deleteOnDestination(
    ctx,
    plan,
    extra.map((message) => message.uid),
  );
}

/**
 * Marks these destination messages \Deleted and expunges them (UID EXPUNGE where the server has
 * UIDPLUS, so nothing else flagged \Deleted goes with them). Returns the UIDs deleted: none under
 * --dry or when the server refused.
 */
export async function deleteOnDestination(
  ctx: FolderSyncContext,
  plan: FolderPlan,
  uids: number[],
): Promise<number[]> {
  const { session, destination } = ctx;
  if (uids.length === 0) {
    return [];
  }
  const folder = plan.destinationWireName;
  const sorted = [...uids].sort((a, b) => a - b);
  if (session.args.dry) {
    for (const uid of sorted) {
      session.write(`Host2: msg ${folder}/${uid} marked \\Deleted on host2 \t(not really since --dry mode)`);
    }
    return [];
  }
  try {
    await destination.mailboxOpen(plan.destinationPath);
    for (const set of uidSets(sorted, UIDS_PER_FETCH)) {
      await destination.messageDelete(set, { uid: true });
    }
    for (const uid of sorted) {
      session.write(`Host2: msg ${folder}/${uid} marked \\Deleted on host2`);
    }
    session.counters.deletedOnHost2 += sorted.length;
    session.counters.missingOnHost1 = Math.max(0, session.counters.missingOnHost1 - sorted.length);
    return sorted;
  } catch (e: unknown) {
    session.error(
      "ERR_OTHER",
      `Host2: could not delete ${sorted.length} messages in folder [${folder}]: ${errorText(e)}`,
    );
    return [];
  } finally {
    await destination.mailboxClose().catch(() => false);
  }
}
