export type { JobView } from "./job-view.ts";
export type {
  BulkJobsInput,
  BulkOutcome,
  BulkResult,
  CreateJobInput,
  EditJobInput,
  JobPage,
  ListJobsInput,
} from "./jobs.ts";
export {
  BULK_ACTIONS,
  bulkJobs,
  bulkJobsInputSchema,
  cancelJob,
  createJob,
  createJobInputSchema,
  deleteJob,
  deleteJobInputSchema,
  editJob,
  editJobInputSchema,
  getJob,
  jobIdInputSchema,
  jobOptionsSchema,
  listJobs,
  listJobsInputSchema,
  rerunJob,
  rerunJobInputSchema,
} from "./jobs.ts";
export { EMAIL_PATTERN, emailSchema, passwordSchema } from "./validation.ts";
