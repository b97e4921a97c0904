/**
 * Browser-safe front door to core's input schemas: the panel validates its forms with exactly the
 * schemas the router uses. Only modules whose runtime imports are zod, kysely's `sql` tag and
 * @imapferry/db's constants may be re-exported here — never the vault, pg, graphile-worker or node:*.
 */

export { ENGINE_PRESETS, engineOptionsSchema } from "./engines/options.ts";
export { batchTagSchema } from "./services/batches/batches.ts";
export {
  bulkJobsInputSchema,
  createJobInputSchema,
  deleteJobInputSchema,
  editJobInputSchema,
  listJobsInputSchema,
  rerunJobInputSchema,
} from "./services/jobs/jobs.ts";
export { EMAIL_PATTERN, emailSchema, jobNameSchema, passwordSchema } from "./services/jobs/validation.ts";
export {
  createServerInputSchema,
  serverIdInputSchema,
  serverInputSchema,
  updateServerInputSchema,
} from "./services/servers/servers.ts";
export { settingsPatchSchema, settingsSchema } from "./services/settings/settings.ts";
