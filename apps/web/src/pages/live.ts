import { api } from "../api/client.ts";
import { noticeSessionLoss } from "../session.ts";

export interface LiveJobEvent {
  jobId: number;
  batchId: number | null;
  status: string;
  progress?: unknown;
}

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
        else if (event.type === "job") handlers.onEvent(event);
      }
    } catch (e: unknown) {
      if (!controller.signal.aborted) noticeSessionLoss(e);
    }
  })();
  return function stopJobEvents() {
    controller.abort();
  };
}
