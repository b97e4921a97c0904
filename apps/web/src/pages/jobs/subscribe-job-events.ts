import type { JobEvent } from "@imapferry/sdk";
import { api } from "../../api/client.ts";
import { noticeSessionLoss } from "../../session.ts";

/** A job's new status (and its progress when that changed), as jobs.events reports it. */
export type LiveJobEvent = Extract<JobEvent, { type: "job" }>;

/**
 * Listens to jobs.events through the SDK's watchJobs (reconnects by itself). `onResync` fires when
 * the server says events may have been missed — once when the stream is live, then after any drop —
 * and the caller re-reads what it shows.
 */
export function subscribeJobEvents(handlers: {
  jobId?: number;
  batchId?: number;
  onEvent: (event: LiveJobEvent) => void;
  onResync?: () => void;
}): () => void {
  const controller = new AbortController();
  const options = {
    signal: controller.signal,
    ...(handlers.jobId === undefined ? {} : { jobIds: [handlers.jobId] }),
    ...(handlers.batchId === undefined ? {} : { batch: handlers.batchId }),
  };
  void (async function pumpJobEvents() {
    try {
      for await (const event of api.watchJobs(options)) {
        if (event.type === "resync") handlers.onResync?.();
        else handlers.onEvent(event);
      }
    } catch (e: unknown) {
      if (!controller.signal.aborted) noticeSessionLoss(e);
    }
  })();
  return function stopJobEvents() {
    controller.abort();
  };
}
