export type { BatchRunFilter, BulkOutcome, BulkResult } from "./bulk.ts";
export { bulkJobs, rerunBatchRuns } from "./bulk.ts";
export type { JobView } from "./job-view.ts";
export type { JobPage } from "./jobs.ts";
export {
  cancelJob,
  createJob,
  deleteJob,
  editJob,
  getJob,
  listJobs,
  rerunJob,
  resumeJobNow,
  withLinkUrl,
} from "./jobs.ts";
export type { PreviousRun } from "./previous-runs.ts";
export { listPreviousRuns } from "./previous-runs.ts";
export type { BulkJobsInput, CreateJobInput, EditJobInput, ListJobsInput } from "./schemas.ts";
export {
  BULK_ACTIONS,
  bulkJobsInputSchema,
  createJobInputSchema,
  deleteJobInputSchema,
  editJobInputSchema,
  JOB_SORT_KEYS,
  type JobSortKey,
  jobIdInputSchema,
  jobOptionsSchema,
  listJobsInputSchema,
  passwordRequiredSentence,
  rerunJobInputSchema,
} from "./schemas.ts";
