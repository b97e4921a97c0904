import type { ServiceContext } from "@imapferry/core";
import { errorMessage, recordWatch } from "@imapferry/core";
import type { JobStreamEvent } from "./job-stream-event.ts";
import { WATCH_REFRESH_MS } from "./stream-timing.ts";

/**
 * What someone looks at. There is deliberately no "everything": one API client polling the whole list
 * would then silence every email for good; views of the whole list mark the jobs they show.
 */
export interface WatchInput {
  jobIds?: number[];
  batchIds?: number[];
}

export interface WatchRecorder {
  /** Records that someone looks at these jobs or batches; never waits, never throws. */
  mark(input: WatchInput): void;
}

/**
 * Marks watches (notifications are suppressed while someone watches) at most once per `intervalMs`
 * per job or batch in this process. 500 people following one job, or a jobs.list polled 200 times a
 * second, then cost one UPDATE every few seconds instead of one per request.
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
      const jobIds = [...new Set(input.jobIds ?? [])].filter((id) => due(`job:${id}`, now));
      const batchIds = [...new Set(input.batchIds ?? [])].filter((id) => due(`batch:${id}`, now));
      if (jobIds.length === 0 && batchIds.length === 0) return;
      recordWatch(ctx, {
        ...(jobIds.length > 0 ? { jobIds } : {}),
        ...(batchIds.length > 0 ? { batchIds } : {}),
      }).catch(function watchFailed(e: unknown) {
        ctx.log.warn("could not record a watch", { error: errorMessage(e) });
      });
    },
  };
}

/** Statuses after which a job changes no more: it is marked once more and then let go. */
const ENDED = new Set(["done", "failed", "cancelled", "deleted"]);

/** How many unfinished jobs one stream keeps marking; beyond it the oldest are let go. */
const MAX_LIVE_JOBS = 10_000;

/**
 * Passes a jobs.events stream without a filter (the panel's jobs page) through, marking as watched the
 * jobs it tells the subscriber about: the page shows them live. A job stays marked, every
 * `refreshMs`, from its first event until it ends, so a long migration that only reports progress
 * now and then is still watched when it finishes. Jobs it never hears of are not marked.
 * @param refreshMs @defaultValue WATCH_REFRESH_MS (20 s, well inside the 60 s watch window)
 */
export async function* markStreamedJobs(
  watches: WatchRecorder,
  events: AsyncIterable<JobStreamEvent>,
  refreshMs = WATCH_REFRESH_MS,
): AsyncGenerator<JobStreamEvent> {
  const live = new Set<number>();
  const timer = setInterval(function refreshLiveJobs() {
    if (live.size > 0) watches.mark({ jobIds: [...live] });
  }, refreshMs);
  try {
    for await (const event of events) {
      if (event.type === "job") {
        const { jobId, status } = event;
        watches.mark({ jobIds: [jobId] });
        live.delete(jobId);
        if (!ENDED.has(status)) {
          live.add(jobId);
          if (live.size > MAX_LIVE_JOBS) {
            const oldest = live.values().next();
            if (!oldest.done) live.delete(oldest.value);
          }
        }
      }
      yield event;
    }
  } finally {
    clearInterval(timer);
  }
}
