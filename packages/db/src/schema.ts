import type { ColumnType, Generated, Insertable, JSONColumnType, Selectable, Updateable } from "kysely";

/** Timestamps come back as Date; we write them as Date or SQL `now()`. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export const JOB_STATUSES = [
  "queued",
  "running",
  "waiting",
  "done",
  "incomplete",
  "failed",
  "cancelled",
  "interrupted",
  /** Created without its source password: waits for the mailbox owner to enter it through a link. */
  "awaiting_credentials",
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const SERVER_SECURITIES = ["tls", "starttls", "none"] as const;
export type ServerSecurity = (typeof SERVER_SECURITIES)[number];

/**
 * How a server's admin credentials log in for a mailbox: SASL PLAIN with the mailbox login as the
 * authorization identity (Dovecot master users, Cyrus, imapsync --authuser), or a plain LOGIN as
 * "<mailbox><separator><admin>" (Dovecot's auth_master_user_separator form).
 */
export const ADMIN_MODES = ["sasl-authzid", "login-separator"] as const;
export type AdminMode = (typeof ADMIN_MODES)[number];

/**
 * Admin modes where the worker gets an OAuth2 access token for each mailbox and logs in as it with
 * XOAUTH2: a Google service account with domain-wide delegation, or a Microsoft 365 app (client
 * credentials, IMAP.AccessAsApp).
 */
export const OAUTH2_ADMIN_MODES = ["google-service-account", "microsoft-app"] as const;
export type OAuth2AdminMode = (typeof OAUTH2_ADMIN_MODES)[number];

export interface ServersTable {
  id: Generated<number>;
  name: string;
  host: string;
  port: number;
  security: ServerSecurity;
  accept_self_signed: Generated<boolean>;
  /** How many migrations may read from this host at once, across all workers; null = the global default. */
  source_host_limit: number | null;
  /** Admin credentials (master user / proxy auth, or an OAuth2 service account or app), or all null. */
  admin_mode: AdminMode | OAuth2AdminMode | null;
  /** The admin login; for the OAuth2 modes the service account's email or the app's client id. */
  admin_login: string | null;
  /**
   * Vault ciphertext, never a secret in clear: the admin password, the service account's JSON key, or
   * the app's {tenantId, clientId, clientSecret} as JSON.
   */
  admin_secret: string | null;
  /** Between mailbox and admin login in the 'login-separator' mode. @defaultValue "*" */
  admin_separator: string | null;
  /** The OAuth2 modes' token endpoint; null: the provider's public one. */
  admin_token_url: string | null;
  /** The OAuth client mailbox owners sign in to with "Connect with Google / Microsoft"; null: none. */
  connect_provider: "google" | "microsoft" | null;
  connect_client_id: string | null;
  /** Vault ciphertext; null for a public client. */
  connect_client_secret: string | null;
  /** null: the provider's public authorization endpoint. */
  connect_authorize_url: string | null;
  /** null: the provider's public token endpoint. */
  connect_token_url: string | null;
  /** Bytes a run may read from one source account per budget window; null = no limit. */
  daily_download_bytes: ColumnType<string | null, number | null | undefined, number | null>;
  /** Bytes a run may write to one destination account per budget window; null = no limit. */
  daily_upload_bytes: ColumnType<string | null, number | null | undefined, number | null>;
  /** Most IMAP connections a run opens to one account on this server; null = the engine's own. */
  max_connections: ColumnType<number | null, number | null | undefined, number | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Bytes copied per account and budget window (see servers.daily_download_bytes). */
export interface AccountUsageTable {
  server_id: number;
  login: string;
  direction: "download" | "upload";
  window_start: Timestamp;
  /** bigint: pg returns it as a string. */
  bytes: ColumnType<string, number, number>;
}

export interface BatchesTable {
  id: Generated<number>;
  tag: string;
  tenant: string | null;
  pool: string | null;
  dry_run: boolean;
  /** Engine options every job of the batch starts with. */
  defaults: JSONColumnType<Record<string, unknown>, Record<string, unknown> | undefined>;
  created_at: Timestamp;
  /** Set once the batch summary notification has been queued, so it is queued only once. */
  summary_queued_at: NullableTimestamp;
}

/** Where a job's engine option was set: the job itself, its CSV row, its batch, the settings, a plan's pass. */
export type OptionOrigin = "job" | "row" | "batch" | "settings" | "plan";

export type PlanPhase = "active" | "paused" | "cutting-over" | "ended";

/** A batch's schedule of delta passes and its cutover (see services/plans). */
export interface BatchPlansTable {
  batch_id: number;
  interval_seconds: number;
  cutover_at: NullableTimestamp;
  /** The final pass deletes destination messages that are not on the source. */
  delete_on_destination_at_cutover: Generated<boolean>;
  /** Pre-stage: the batch's first copy took only mail older than this; delta passes take everything. */
  prestage_min_age_days: number | null;
  phase: Generated<PlanPhase>;
  next_pass_at: NullableTimestamp;
  passes: Generated<number>;
  last_pass_at: NullableTimestamp;
  /** Mailboxes the last pass queued, and those it left alone because their previous run had not ended. */
  last_pass_queued: number | null;
  last_pass_busy: number | null;
  cutover_started_at: NullableTimestamp;
  ended_at: NullableTimestamp;
  /** At the end of a cutover: mailboxes whose final run ended done, and the others. */
  complete_count: number | null;
  attention_count: number | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface JobProgress {
  copied: number;
  skipped: number;
  errors: number;
  total: number | null;
  bytesCopied: number;
  bytesTotal: number | null;
  msgsPerSecond: number | null;
  etaSeconds: number | null;
  messagesLeft: number | null;
  folder: string | null;
  folderIndex: number | null;
  folderCount: number | null;
}

/** One folder as the check after a run found it. */
export interface FolderVerification {
  /** The source folder (UTF-8) and where it went on the destination. */
  folder: string;
  destinationFolder: string;
  sourceMessages: number;
  sourceBytes: number;
  destMessages: number;
  destBytes: number;
  /** Source messages in scope that are not on the destination. */
  missing: number;
  /** At most 50 of them, for the operator to look at. */
  missingSample: MissingMessage[];
}

export interface MissingMessage {
  uid: number;
  subject: string;
  size: number;
  /** Why it is missing, as far as known: "refused by the destination: …", "over maxMessageBytes", … */
  reason: string;
}

/** The check after a real run: does the destination hold every source message in scope? */
export interface Verification {
  checkedAt: string;
  folders: FolderVerification[];
  sourceMessages: number;
  sourceBytes: number;
  destMessages: number;
  destBytes: number;
  missing: number;
  /** Missing messages per reason ("over maxMessageBytes": 2, …). */
  reasons: Record<string, number>;
  /** How long the check took, for the operator and the benchmark. */
  durationMs: number;
  /**
   * Folders not read again because neither side changed since a check that found them complete (same
   * UIDVALIDITY, UIDNEXT and MESSAGES on both sides: the same messages). Absent in older checks.
   */
  unchangedFolders?: number;
  /**
   * Folders found complete from the built-in engine's record of its copies, without reading every
   * message: each source message's copy still on the destination under the UID the server gave it.
   * Absent when the check had no such record (imapsync, a dry run, older checks).
   */
  provenByCopies?: number;
}

export interface JobsTable {
  id: Generated<number>;
  name: string;
  batch_id: number | null;
  tenant: string | null;
  pool: string | null;
  source_server_id: number;
  source_email: string;
  /**
   * Vault ciphertext ("v1:<keyId>:<iv>:<tag>:<data>"), never a password; null when the job logs in
   * with its server's admin credentials.
   */
  source_secret: string | null;
  dest_server_id: number;
  dest_email: string;
  dest_secret: string | null;
  /**
   * Vault ciphertext of a delegated OAuth2 grant ({provider, refreshToken, clientId, clientSecret?,
   * tokenUrl} as JSON) used instead of a password; null for none.
   */
  source_oauth2: string | null;
  dest_oauth2: string | null;
  dry_run: boolean;
  options: JSONColumnType<Record<string, unknown>, Record<string, unknown> | undefined>;
  /** Where each option set at some level came from ("job", "row", "batch", "settings", "plan"). */
  option_origins: JSONColumnType<Record<string, OptionOrigin>, Record<string, OptionOrigin> | undefined>;
  status: Generated<JobStatus>;
  priority: Generated<number>;
  progress: JSONColumnType<JobProgress | null, JobProgress | null | undefined>;
  stats: JSONColumnType<Record<string, unknown> | null, Record<string, unknown> | null | undefined>;
  /** What the check after the last real run found (see core's verification); null before one ran. */
  verification: JSONColumnType<Verification | null, string | null | undefined, string | null>;
  exit_code: number | null;
  error_category: string | null;
  error_message: string | null;
  worker_id: string | null;
  /** The run currently allowed to drive this job; a stale lease means its worker is gone. */
  lease_expires_at: NullableTimestamp;
  attempt: Generated<number>;
  /** When a waiting job resumes by itself (its queue entry runs then); null unless waiting. */
  resume_at: NullableTimestamp;
  /** Automatic resumptions after a passing fault so far, against the retry policy's maximum. */
  auto_retries: Generated<number>;
  rerun_of: number | null;
  /**
   * In a batch: the latest job of the same mailbox pair, which replaced this one in the batch's counts,
   * report and default lists; null for the latest (see core's refreshSuperseded).
   */
  superseded_by: Generated<number | null>;
  log_bytes: Generated<string>;
  cancel_requested_at: NullableTimestamp;
  created_at: Timestamp;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  deleted_at: NullableTimestamp;
  last_watched_at: NullableTimestamp;
}

/** What became of a credential link (see migration 0018-credential-requests). */
export type CredentialRequestStatus = "pending" | "used" | "expired" | "replaced" | "cancelled";

/** A single-use link asking a mailbox's owner for its source password; only the token's hash is kept. */
export interface CredentialRequestsTable {
  id: Generated<number>;
  job_id: number;
  /** sha256 (hex) of the link's token. */
  token_hash: string;
  /** Where the link (and its reminder) is emailed; null: it was only returned to the caller. */
  owner_email: string | null;
  status: Generated<CredentialRequestStatus>;
  created_at: Generated<Date>;
  expires_at: Timestamp;
  emailed_at: NullableTimestamp;
  /** Why the last email about this link did not go out (a sentence without credentials). */
  email_error: string | null;
  reminders_sent: Generated<number>;
  last_reminder_at: NullableTimestamp;
  /** Passwords the owner entered that the server refused. */
  failed_attempts: Generated<number>;
  used_at: NullableTimestamp;
  /** When it stopped being usable (used, expired, replaced, cancelled). */
  ended_at: NullableTimestamp;
}

export interface JobLogsTable {
  id: Generated<string>;
  job_id: number;
  /** Byte offset of the chunk's first byte in the job's whole log (UTF-8). */
  byte_offset: string;
  chunk: string;
  created_at: Timestamp;
}

export interface WorkersTable {
  id: string;
  hostname: string;
  pid: number;
  pool: string | null;
  capacity: number;
  running: Generated<number>;
  load: JSONColumnType<number[], number[] | undefined>;
  memory_rss: Generated<string>;
  started_at: Timestamp;
  heartbeat_at: Timestamp;
  draining: Generated<boolean>;
  stopped_at: NullableTimestamp;
  /** /proc/sys/kernel/random/boot_id of the worker's machine; null where there is none. */
  boot_id: string | null;
  /** The worker process's pid namespace (/proc/self/ns/pid), e.g. "pid:[4026531836]". */
  pid_namespace: string | null;
  /** The worker process's start time in clock ticks since boot (/proc/<pid>/stat, field 22). */
  process_start: string | null;
  /** When a process on the worker's own host saw its process gone. */
  exited_at: NullableTimestamp;
}

export interface UsersTable {
  id: Generated<number>;
  username: string;
  password_hash: string;
  created_at: Timestamp;
}

export interface SessionsTable {
  /** sha256 of the cookie value: a leaked table does not log anyone in. */
  id_hash: string;
  user_id: number;
  created_at: Timestamp;
  expires_at: Timestamp;
}

export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  token_hash: string;
  /** First characters of the token, shown in lists so people can tell tokens apart. */
  prefix: string;
  created_at: Timestamp;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  /** After this the token no longer works; null: until revoked. */
  expires_at: NullableTimestamp;
  /** What the token may do; tokens made before roles existed are `admin`. */
  role: Generated<ApiTokenRole>;
  /** The only tenant whose jobs and batches the token sees; null: every tenant. */
  tenant: string | null;
}

/** One change (or refused attempt at one), append-only: see migration 0014-audit-log. */
export interface AuditEventsTable {
  id: Generated<string>;
  at: Timestamp;
  user_id: number | null;
  username: string | null;
  method: "session" | "token" | "anonymous";
  token_id: number | null;
  token_prefix: string | null;
  /** The tenant the caller's token is bound to; null: every tenant (or a person). */
  caller_tenant: string | null;
  ip: string | null;
  /** The procedure, e.g. "jobs.cancel". */
  action: string;
  /** "job", "batch", "server", "token" … and its id, where the change names one. */
  target_type: string | null;
  target_id: number | null;
  /** The tenant of what was changed, where known. */
  tenant: string | null;
  /** "ok", or the error code it was refused with (FORBIDDEN, BAD_REQUEST …). */
  outcome: string;
  /** The input without secrets (passwords, tokens and CSV contents are never stored). */
  details: ColumnType<Record<string, unknown>, string, never>;
}

/** `read`: look only; `operate`: also create, cancel and rerun jobs and batches; `admin`: everything. */
export const API_TOKEN_ROLES = ["read", "operate", "admin"] as const;
export type ApiTokenRole = (typeof API_TOKEN_ROLES)[number];

export interface SettingsTable {
  key: string;
  value: JSONColumnType<object | null, string, string>;
  updated_at: Timestamp;
}

export interface NotificationsTable {
  id: Generated<number>;
  /** Unique per thing notified about ("job:42:done", "batch:7"): a retry never sends twice. */
  dedupe_key: string;
  /** cutover: the summary of a batch plan's cutover. */
  kind: "job" | "batch" | "cutover";
  job_id: number | null;
  batch_id: number | null;
  recipients: string[];
  subject: string | null;
  status: Generated<"pending" | "sent" | "suppressed" | "failed">;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: Timestamp;
  sent_at: NullableTimestamp;
  /** Why a 'suppressed' notification was not sent ("someone was watching the job"). */
  suppressed_reason: string | null;
}

/** When a whole view (scope "jobs": the jobs list) was last watched; notifications are suppressed meanwhile. */
export interface WatchMarksTable {
  scope: string;
  watched_at: Timestamp;
}

/** The key of per-folder-pair rows: a mailbox pair (as superseded runs group jobs), then the folder pair. */
interface FolderPairKey {
  source_server_id: number;
  /** The source login, lower-cased (logins are case-insensitive, as for superseded runs). */
  source_login: string;
  dest_server_id: number;
  dest_login: string;
  /** Unicode folder paths. */
  source_folder: string;
  dest_folder: string;
}

/**
 * The built-in engine's incremental sync state of one folder pair of one mailbox pair (see core's
 * engines/builtin/sync-state.ts for `state`). Advisory: checked against the servers before use.
 */
export interface SyncFolderStatesTable extends FolderPairKey {
  state: JSONColumnType<Record<string, unknown>, string, string>;
  /** The job whose run wrote it last. */
  job_id: number | null;
  updated_at: Timestamp;
}

/** A folder pair's last complete check and the stamps it was made under (see core's verification). */
export interface VerifiedFoldersTable extends FolderPairKey {
  proof: JSONColumnType<Record<string, unknown>, string, string>;
  updated_at: Timestamp;
}

/** One "Connect with Google / Microsoft" sign-in, from its start to the job side that takes its grant. */
export interface OAuth2ConnectionsTable {
  id: Generated<number>;
  /** SHA-256 of the state sent through the browser (hex). */
  state_hash: string;
  /** Vault ciphertext of the PKCE code verifier. */
  code_verifier: string;
  server_id: number;
  user_id: ColumnType<number | null, number | null | undefined, number | null>;
  token_id: ColumnType<number | null, number | null | undefined, number | null>;
  tenant: ColumnType<string | null, string | null | undefined, string | null>;
  login_hint: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Generated<Timestamp>;
  expires_at: Timestamp;
  connected_at: NullableTimestamp;
  /** The account the owner signed in as (the id token's email), when the provider said. */
  account: ColumnType<string | null, string | null | undefined, string | null>;
  /** Vault ciphertext of the delegated grant, once connected. */
  grant_secret: ColumnType<string | null, string | null | undefined, string | null>;
  /** Why the sign-in failed (a sentence without secrets). */
  error: ColumnType<string | null, string | null | undefined, string | null>;
  used_at: NullableTimestamp;
}

/** Where signed webhooks go (migration 0017). `secret` is vault ciphertext. */
export interface WebhookEndpointsTable {
  id: Generated<number>;
  url: string;
  description: Generated<string>;
  secret: string;
  /** The event types sent here ("job.ended", "job.waiting", "batch.ended", "plan.cutover"). */
  event_types: string[];
  /** Only events of this tenant; null: every tenant's. */
  tenant: string | null;
  enabled: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Something that happened, recorded once (unique dedupe_key) when an endpoint wanted it. */
export interface WebhookEventsTable {
  id: Generated<number>;
  type: string;
  dedupe_key: string;
  tenant: string | null;
  data: JSONColumnType<Record<string, unknown>, string, never>;
  created_at: Timestamp;
}

/** One event for one endpoint (unique pair); its attempts are in webhook_attempts. */
export interface WebhookDeliveriesTable {
  id: Generated<number>;
  endpoint_id: number;
  event_id: number;
  status: Generated<"pending" | "delivered" | "failed">;
  attempts: Generated<number>;
  last_status_code: number | null;
  last_response_ms: number | null;
  /** Why the last attempt failed, as a sentence (never the secret). */
  last_error: string | null;
  /** When the next automatic attempt runs; null when none is scheduled. */
  next_attempt_at: NullableTimestamp;
  created_at: Timestamp;
  delivered_at: NullableTimestamp;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  delivery_id: number;
  number: number;
  /** Asked for by someone ("Redeliver"), not scheduled by the retry policy. */
  redelivery: Generated<boolean>;
  started_at: Timestamp;
  ok: boolean;
  status_code: number | null;
  response_ms: number;
  error: string | null;
}

export interface Database {
  servers: ServersTable;
  batches: BatchesTable;
  batch_plans: BatchPlansTable;
  jobs: JobsTable;
  credential_requests: CredentialRequestsTable;
  job_logs: JobLogsTable;
  workers: WorkersTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  audit_events: AuditEventsTable;
  settings: SettingsTable;
  notifications: NotificationsTable;
  watch_marks: WatchMarksTable;
  sync_folder_states: SyncFolderStatesTable;
  verified_folders: VerifiedFoldersTable;
  oauth2_connections: OAuth2ConnectionsTable;
  account_usage: AccountUsageTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_events: WebhookEventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}

export type ServerRow = Selectable<ServersTable>;
export type NewServer = Insertable<ServersTable>;
export type ServerUpdate = Updateable<ServersTable>;
export type BatchRow = Selectable<BatchesTable>;
export type BatchPlanRow = Selectable<BatchPlansTable>;
export type JobRow = Selectable<JobsTable>;
export type NewJob = Insertable<JobsTable>;
export type JobUpdate = Updateable<JobsTable>;
export type JobLogRow = Selectable<JobLogsTable>;
export type CredentialRequestRow = Selectable<CredentialRequestsTable>;
export type WorkerRow = Selectable<WorkersTable>;
export type UserRow = Selectable<UsersTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type NotificationRow = Selectable<NotificationsTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptsTable>;
