import type { ServiceContext } from "@imapferry/core";
import { recordWatch } from "@imapferry/core";

export interface WatchInput {
  jobIds?: number[];
  batchIds?: number[];
  all?: boolean;
}

export interface WatchRecorder {
  /** Records that someone looks at these jobs, batches or the whole list; never waits, never throws. */
  mark(input: WatchInput): void;
}

/**
 * Marks watches (notifications are suppressed while someone watches) at most once per `intervalMs`
 * per job, batch or list in this process. 500 people following one job, or a jobs.list polled 200
 * times a second, then cost one UPDATE every few seconds instead of one per request, all on one row.
 * @param intervalMs @defaultValue 5000 (well inside the 60 s watch window)
 */
export function createWatchRecorder(
  ctx: Pick<ServiceContext, "db" | "log">,
  intervalMs = 5000,
): WatchRecorder {
  const markedAt = new Map<string, number>();
  function due(key: string, now: number): boolean {
    if (now - (markedAt.get(key) ?? 0) < intervalMs) return false;
    markedAt.set(key, now);
    return true;
  }
  return {
    mark(input) {
      const now = Date.now();
      if (markedAt.size > 50_000) markedAt.clear();
      const jobIds = (input.jobIds ?? []).filter((id) => due(`job:${id}`, now));
      const batchIds = (input.batchIds ?? []).filter((id) => due(`batch:${id}`, now));
      const all = input.all === true && due("all", now);
      if (jobIds.length === 0 && batchIds.length === 0 && !all) return;
      recordWatch(ctx, {
        ...(jobIds.length > 0 ? { jobIds } : {}),
        ...(batchIds.length > 0 ? { batchIds } : {}),
        ...(all ? { all } : {}),
      }).catch(function watchFailed(e: unknown) {
        ctx.log.warn("could not record a watch", { error: e instanceof Error ? e.message : String(e) });
      });
    },
  };
}
