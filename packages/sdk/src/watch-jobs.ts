import { resubscribing } from "./retry.ts";
import type { ClientCore, JobEvent } from "./types.ts";

export interface WatchJobsOptions {
  /** Only the jobs of this batch (its id, or its tag). @defaultValue every job */
  batch?: number | string;
  /** Only these jobs. */
  jobIds?: number[];
  signal?: AbortSignal;
}

export interface WatchHelpers {
  /**
   * Status and progress changes as they happen. Yields `{ type: "resync" }` first, once it is live, and
   * again after any reconnect (when events may have been missed): (re)load what you show then.
   */
  watchJobs(options?: WatchJobsOptions): AsyncIterable<JobEvent>;
}

export function createWatchHelpers(core: ClientCore): WatchHelpers {
  async function* watchJobs(options: WatchJobsOptions = {}): AsyncGenerator<JobEvent, void, undefined> {
    const { signal } = options;
    const batchId =
      typeof options.batch === "string"
        ? (await core.api.batches.get.query({ tag: options.batch })).id
        : options.batch;
    const input = {
      ...(batchId !== undefined ? { batchId } : {}),
      ...(options.jobIds ? { jobIds: options.jobIds } : {}),
    };
    const events = resubscribing((stop) => core.api.jobs.events.subscribe(input, { signal: stop }), signal);
    for await (const event of events) {
      // Heartbeats only keep a quiet stream open (and, received, start the backoff over).
      if (event.type !== "heartbeat") yield event;
    }
  }
  return { watchJobs };
}
