import type { ImapFlow } from "imapflow";
import { AppendConnection } from "./append-connection.ts";
import { openSide } from "./connect-side.ts";
import type { FolderPlan } from "./folder-plan.ts";
import type { FolderSyncContext } from "./folder-sync-context.ts";
import type { SyncArgs } from "./sync-args.ts";
import type { SyncSession } from "./sync-session.ts";

/*
 * Folders copied in parallel. One source connection and one destination connection serve one folder
 * at a time: a folder's copy is a FETCH stream and an APPEND stream that wait on each other and on
 * the servers' disks, so a second folder over a second set of connections fills the gaps the first
 * leaves (the servers lock per mailbox, so two folders do not queue on each other). Each set of
 * connections is a lane; lanes take the next folder as they finish one, in plan order.
 */

/** A plan and its 1-based position in the run (for the `Folder i/N` line). */
export interface NumberedPlan {
  plan: FolderPlan;
  index: number;
}

/**
 * Plans grouped by the top of their destination path, so that one lane creates and fills a whole
 * subtree in plan order: folders writing to the same destination folder (--f1f2, --automap) must
 * run one after the other, or the second would not see what the first copied and would copy the
 * messages both hold twice; and a child created before its parent makes some servers (Dovecot's
 * Maildir among them) leave the parent a non-selectable directory that the parent's own CREATE then
 * finds "already existing". Groups keep the plan order of their first folder.
 */
export function groupByDestination(plans: readonly FolderPlan[], delimiter: string): NumberedPlan[][] {
  const groups = new Map<string, NumberedPlan[]>();
  for (const [i, plan] of plans.entries()) {
    const top = delimiter ? (plan.destinationPath.split(delimiter)[0] ?? "") : plan.destinationPath;
    const key = top.toUpperCase() === "INBOX" ? "INBOX" : top;
    const group = groups.get(key);
    if (group) group.push({ plan, index: i + 1 });
    else groups.set(key, [{ plan, index: i + 1 }]);
  }
  return [...groups.values()];
}

/**
 * How many lanes the run uses, within `--connections` per account: a lane holds one source
 * connection and one destination connection, plus the pipelined appender when there is one. A
 * throttled run keeps one lane, so its rate is exactly the one asked for; --justfolders only creates
 * folders, which one connection does in no time.
 */
export function laneCount(args: SyncArgs, groups: number, withAppender: boolean): number {
  if (args.justFolders || args.maxBytesPerSecond || args.maxMessagesPerSecond) {
    return 1;
  }
  const destinationPerLane = withAppender ? 2 : 1;
  return Math.max(1, Math.min(groups, Math.floor(args.connections / destinationPerLane)));
}

export interface LaneConnections {
  source: ImapFlow;
  destination: ImapFlow;
  appender: AppendConnection | undefined;
}

/**
 * Opens one more lane's connections, or returns the reason it could not (the run then goes on with
 * the lanes it has: a server's per-user connection limit is no reason to fail a migration).
 */
export async function openLane(
  args: SyncArgs,
  passwords: { source: string; destination: string },
  withAppender: boolean,
  session?: SyncSession,
): Promise<LaneConnections | string> {
  const [source, destination, appender] = await Promise.all([
    openSide(1, args.host1, passwords.source, session),
    openSide(2, args.host2, passwords.destination, session),
    withAppender
      ? AppendConnection.open(args.host2, passwords.destination).catch((e: unknown) =>
          e instanceof Error ? e.message.split("\n")[0] : String(e),
        )
      : Promise.resolve(undefined),
  ]);
  if (source.ok && destination.ok && typeof appender !== "string") {
    if (!withAppender || appender) {
      return { source: source.client, destination: destination.client, appender };
    }
  }
  if (source.ok) source.client.close();
  if (destination.ok) destination.client.close();
  if (appender instanceof AppendConnection) appender.close();
  if (!source.ok) return source.error;
  if (!destination.ok) return destination.error;
  return typeof appender === "string" ? appender : "the destination offered no pipelined append";
}

/**
 * Runs `work` for every plan, each group on one lane, as many lanes at once as there are. A lane
 * takes the next group when it finishes one; `shouldStop` ends all lanes before their next folder.
 */
export async function runLanes<Lane extends FolderSyncContext>(
  lanes: readonly Lane[],
  groups: readonly NumberedPlan[][],
  work: (lane: Lane, plan: NumberedPlan) => Promise<void>,
  shouldStop: () => boolean,
): Promise<void> {
  let next = 0;
  // A failing lane (errorsmax, a lost connection that cannot be reopened) ends the run: the others
  // stop before their next folder, and the first failure is what the run reports.
  let failed = false;
  const stop = () => failed || shouldStop();
  async function drive(lane: Lane): Promise<void> {
    try {
      for (;;) {
        if (stop()) return;
        const group = groups[next];
        next += 1;
        if (!group) return;
        for (const plan of group) {
          if (stop()) return;
          await work(lane, plan);
        }
      }
    } catch (e: unknown) {
      failed = true;
      throw e;
    }
  }
  const results = await Promise.allSettled(lanes.map(drive));
  const failure = results.find((result) => result.status === "rejected");
  if (failure) throw failure.reason;
}
