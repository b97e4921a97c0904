// The public surface of @imapferry/core: each folder's index.ts is its front door and exports by
// name; this file only gathers them. The built-in engine's internals (engines/builtin) stay private:
// it is reached through its `imapferry-sync` executable, like imapsync.
export type { Clock, Logger, ServiceContext, Vault } from "./context.ts";
export { createConsoleLogger, silentLogger, systemClock } from "./context.ts";
export * from "./engines/index.ts";
export type { FieldProblem, ImapferryErrorCode } from "./errors.ts";
export { ERROR_CODES, errorMessage, ImapferryError, isImapferryError } from "./errors.ts";
export * from "./events/index.ts";
export * from "./net/index.ts";
export type { OAuth2Grant, OAuth2Provider } from "./oauth2/index.ts";
export { TokenEndpointError } from "./oauth2/index.ts";
export * from "./queue/index.ts";
export * from "./services/audit/index.ts";
export * from "./services/auth/index.ts";
export * from "./services/batches/index.ts";
export * from "./services/budgets/index.ts";
export * from "./services/credential-requests/index.ts";
export * from "./services/csv-import/index.ts";
export * from "./services/jobs/index.ts";
export * from "./services/logs/index.ts";
export * from "./services/notifications/index.ts";
export * from "./services/oauth2-connect/index.ts";
export * from "./services/plans/index.ts";
export * from "./services/reports/index.ts";
export * from "./services/servers/index.ts";
export * from "./services/settings/index.ts";
export {
  cursorSchema,
  idSchema,
  loginProblem,
  loginSchema,
  MAX_ID,
  passwordSchema,
  plainText,
} from "./services/validation.ts";
export * from "./services/webhooks/index.ts";
export * from "./services/workers/index.ts";
export * from "./vault/index.ts";
