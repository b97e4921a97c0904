/**
 * Browser-safe front door to core's input schemas: the panel validates its forms with exactly the
 * schemas the router uses. Only schema modules are re-exported here: their runtime imports are zod,
 * other schema modules and @imapferry/db's constant lists (which the panel's bundler maps to the
 * db package's schema module) — never the vault, pg, kysely, graphile-worker or node:*.
 * schemas.test.ts walks this file's import graph to keep it so.
 */

export { ENGINE_PRESETS, engineOptionsSchema } from "./engines/options.ts";
export { batchTagSchema } from "./services/batches/schemas.ts";
export { SERVER_PRESETS } from "./services/budgets/provider-presets.ts";
export {
  bulkJobsInputSchema,
  createJobInputSchema,
  deleteJobInputSchema,
  editJobInputSchema,
  listJobsInputSchema,
  passwordRequiredSentence,
  rerunJobInputSchema,
} from "./services/jobs/schemas.ts";
export { HOST_DETAIL_PATTERNS } from "./services/logs/host-details.ts";
export {
  createServerInputSchema,
  serverAdminInputSchema,
  serverIdInputSchema,
  serverInputSchema,
  updateServerInputSchema,
} from "./services/servers/schemas.ts";
export {
  RETRY_CATEGORIES,
  type RetryCategory,
  settingsPatchSchema,
  settingsSchema,
} from "./services/settings/schemas.ts";
export {
  cursorSchema,
  idSchema,
  jobNameSchema,
  loginProblem,
  loginSchema,
  passwordSchema,
  plainText,
} from "./services/validation.ts";
