export type { BoundedDatabase, BoundedDatabaseOptions } from "./bounded-database.ts";
export { DatabaseTimeoutError, openBoundedDatabase } from "./bounded-database.ts";
export type { EmbeddedDatabase, StartEmbeddedOptions } from "./embedded.ts";
export {
  DataDirectoryError,
  findFreePort,
  findRunningEmbeddedDatabase,
  startEmbeddedDatabase,
} from "./embedded.ts";
export type { MigrationResult } from "./migrate.ts";
export { migrateToLatest } from "./migrate.ts";
export type { DatabaseHandle, OpenDatabaseOptions } from "./pool.ts";
export { describeDatabaseUrl, openDatabase } from "./pool.ts";
export type {
  AdminMode,
  ApiTokenRole,
  ApiTokenRow,
  AuditEventRow,
  BatchPlanRow,
  BatchRow,
  CredentialRequestRow,
  CredentialRequestStatus,
  Database,
  FolderVerification,
  JobLogRow,
  JobProgress,
  JobRow,
  JobStatus,
  JobUpdate,
  MissingMessage,
  NewJob,
  NewServer,
  NotificationRow,
  OAuth2AdminMode,
  OptionOrigin,
  PlanPhase,
  ServerRow,
  ServerSecurity,
  ServerUpdate,
  UserRow,
  Verification,
  WebhookAttemptRow,
  WebhookDeliveryRow,
  WebhookEndpointRow,
  WorkerRow,
} from "./schema.ts";
export {
  ADMIN_MODES,
  API_TOKEN_ROLES,
  JOB_STATUSES,
  OAUTH2_ADMIN_MODES,
  SERVER_SECURITIES,
} from "./schema.ts";
