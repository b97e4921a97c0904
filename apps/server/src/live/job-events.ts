import type { JobEvent } from "@imapferry/core";
import { CHANNELS } from "@imapferry/core";
import type { JobProgress } from "@imapferry/db";
import type { RouterDeps } from "../trpc/router-deps.ts";
import { EventQueue } from "./event-queue.ts";
import type { JobStreamEvent } from "./job-stream-event.ts";
import { HEARTBEAT_MS, WATCH_REFRESH_MS } from "./stream-timing.ts";

/**
 * Status and progress changes as they happen, from the process's one LISTEN connection; optionally
 * only for one batch or some jobs.
 */
export async function* watchJobEvents(
  deps: RouterDeps,
  options: { batchId?: number | undefined; jobIds?: number[] | undefined; signal: AbortSignal | undefined },
): AsyncGenerator<JobStreamEvent> {
  const { batchId, signal } = options;
  const jobIds = options.jobIds ? new Set(options.jobIds) : null;
  const queue = new EventQueue<JobEvent | "resync" | "heartbeat">(5000);
  const unsubscribe = deps.hub.subscribe(CHANNELS.job, function onJobEvent(event) {
    if (batchId !== undefined && event.batchId !== batchId) return;
    if (jobIds && !jobIds.has(event.jobId)) return;
    queue.push(event);
  });
  // Events sent while the hub was reconnecting are lost: tell the client to reload.
  const stopReconnect = deps.hub.onReconnect(() => queue.push("resync"));
  const onAbort = () => queue.interrupt();
  signal?.addEventListener("abort", onAbort);
  // An unfiltered stream marks nothing here: markStreamedJobs marks the jobs it actually reports.
  const watch = () => {
    if (jobIds) deps.watches.mark({ jobIds: [...jobIds] });
    else if (batchId !== undefined) deps.watches.mark({ batchIds: [batchId] });
  };
  const watchTimer = setInterval(watch, WATCH_REFRESH_MS);
  let sentSinceHeartbeat = true;
  const heartbeatTimer = setInterval(() => queue.push("heartbeat"), HEARTBEAT_MS);
  try {
    await unsubscribe.ready;
    watch();
    // Live from here on: the first event tells the client to load the current state now, so a change
    // between its own read and this moment cannot be missed.
    yield { type: "resync" };
    for (;;) {
      const next = await queue.next(signal);
      if (next === null) return;
      if ("overflowed" in next || next.item === "resync") {
        sentSinceHeartbeat = true;
        yield { type: "resync" };
        continue;
      }
      if (next.item === "heartbeat") {
        if (!sentSinceHeartbeat) yield { type: "heartbeat" };
        sentSinceHeartbeat = false;
        continue;
      }
      sentSinceHeartbeat = true;
      const { jobId, batchId: eventBatchId, status, progress, resumeAt } = next.item;
      // The worker puts the job's JobProgress object in the event (the channel contract).
      yield {
        type: "job",
        jobId,
        batchId: eventBatchId,
        status,
        resumeAt: resumeAt ?? null,
        progress: (progress ?? null) as JobProgress | null,
      };
    }
  } finally {
    clearInterval(watchTimer);
    clearInterval(heartbeatTimer);
    stopReconnect();
    signal?.removeEventListener("abort", onAbort);
    unsubscribe();
  }
}
