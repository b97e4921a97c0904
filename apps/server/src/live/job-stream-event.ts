import type { JobProgress } from "@imapferry/db";

/**
 * What jobs.events yields: a job's new status (and its progress when that changed), or `resync`: first
 * once the subscription is live, then whenever events may have been missed (the subscriber fell
 * behind, or the server's event connection dropped). On `resync`, (re)load what you show.
 * `heartbeat` comes when nothing else did for a while; ignore it.
 */
export type JobStreamEvent = JobStatusEvent | { type: "resync" } | { type: "heartbeat" };

export interface JobStatusEvent {
  type: "job";
  jobId: number;
  batchId: number | null;
  /** A job status, or "deleted". */
  status: string;
  /** While waiting (handed back to the queue, or in process for a short suggested backoff): when it resumes. */
  resumeAt: string | null;
  progress: JobProgress | null;
}
