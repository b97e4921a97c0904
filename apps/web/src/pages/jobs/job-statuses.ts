/** The statuses the jobs list filters by, in the order its chips show them. */
export const JOB_STATUSES = [
  "queued",
  "running",
  "waiting",
  "done",
  "incomplete",
  "failed",
  "cancelled",
  "interrupted",
  "awaiting_credentials",
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses in which a job still has work ahead of it (it can be cancelled, not rerun or edited). */
export const ACTIVE_STATUSES: ReadonlySet<string> = new Set([
  "queued",
  "running",
  "waiting",
  "awaiting_credentials",
]);
