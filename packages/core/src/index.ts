export type { Clock, Logger, ServiceContext, Vault } from "./context.ts";
export { createConsoleLogger, silentLogger, systemClock } from "./context.ts";
export { ENGINE_NAME as BUILTIN_ENGINE_NAME, runSync as runBuiltinSync } from "./engines/builtin/run-sync.ts";
export type {
  SideArgs as BuiltinSideArgs,
  SyncArgs as BuiltinSyncArgs,
} from "./engines/builtin/sync-args.ts";
export {
  parseSyncArgs as parseBuiltinSyncArgs,
  SyncUsageError as BuiltinSyncUsageError,
} from "./engines/builtin/sync-args.ts";
export type { SyncIo as BuiltinSyncIo } from "./engines/builtin/sync-session.ts";
export type {
  ConnectionFailureCategory,
  ConnectionTestResult,
  ImapCredentials,
  ImapServerEndpoint,
  TestConnectionOptions,
} from "./engines/connection-test.ts";
export {
  CONNECTION_FAILURE_CATEGORIES,
  classifyConnectionError,
  testConnection,
} from "./engines/connection-test.ts";
export {
  ALWAYS_ARGS,
  buildImapsyncArgs,
  encodeImapFolderName,
  engineEnv,
  FORBIDDEN_ARGS,
} from "./engines/imapsync/args.ts";
export type {
  DescribeExitInput,
  ExitCategory,
  ExitDescription,
  ImapsyncExitCode,
  MailboxRef,
} from "./engines/imapsync/exit-codes.ts";
export { describeExit, EXIT_CATEGORIES, IMAPSYNC_EXIT_CODES } from "./engines/imapsync/exit-codes.ts";
export type {
  ConnectFailedEvent,
  EngineSide,
  ErrorEvent,
  EtaEvent,
  ExitEvent,
  FailureEvent,
  FolderEvent,
  ImapsyncStatistics,
  LoginEvent,
  LogLineEvent,
  MessageCopiedEvent,
  MessageDryRunEvent,
  MessageEvent,
  MessageSkippedEvent,
  MostFrequentErrorEvent,
  OutputParser,
  ParsedEvent,
  SignalEvent,
  StatisticsEvent,
} from "./engines/imapsync/parser.ts";
export { createOutputParser, parseOutput } from "./engines/imapsync/parser.ts";
export type { EngineOptions, EngineOptionsInput, EnginePreset } from "./engines/options.ts";
export { ENGINE_PRESETS, engineOptionsSchema, parseEngineOptions } from "./engines/options.ts";
export type { PreflightFolder, PreflightOptions, PreflightResult } from "./engines/preflight.ts";
export { preflight } from "./engines/preflight.ts";
export type {
  OutputStream,
  RunEngineOptions,
  RunEngineResult,
  RunMigrationEngineOptions,
} from "./engines/run-engine.ts";
export { createLineSplitter, runEngine, runMigrationEngine } from "./engines/run-engine.ts";
export type { EngineChoice, ResolvedEngine, ResolveEngineOptions } from "./engines/select-engine.ts";
export { builtinEngineCommand, resolveEngine } from "./engines/select-engine.ts";
export type { EndpointSpec, EngineKind, MigrationSpec } from "./engines/types.ts";
export type { FieldProblem, ImapferryErrorCode } from "./errors.ts";
export { ERROR_CODES, errorMessage, ImapferryError, isImapferryError } from "./errors.ts";
export type { CancelEvent, CredentialsEvent, JobEvent, LogEvent } from "./events/channels.ts";
export { CHANNELS, MAX_INLINE_LOG_BYTES } from "./events/channels.ts";
export type { ChannelName, ChannelPayloads, EventHub, EventHubOptions, Unsubscribe } from "./events/hub.ts";
export { createEventHub } from "./events/hub.ts";
export type {
  EngineRunInput,
  EngineRunner,
  EngineRunResult,
  MigratePayload,
  StartWorkerOptions,
  WorkerHandle,
} from "./queue/index.ts";
export {
  defaultEngineRunner,
  MIGRATE_TASK,
  migrateTaskFor,
  queueKeyFor,
  startWorker,
} from "./queue/index.ts";
export type {
  ApiToken,
  CreateApiTokenInput,
  LoginAttempt,
  LoginInput,
  LoginRateLimits,
  NewSession,
  Permission,
  Principal,
  User,
} from "./services/auth/index.ts";
export {
  API_TOKEN_PREFIX,
  assertAllowed,
  createApiToken,
  createApiTokenInputSchema,
  createSession,
  createUser,
  DEFAULT_LOGIN_RATE_LIMITS,
  DEFAULT_SESSION_TTL_MS,
  endSession,
  ensureInitialAdmin,
  generatePassword,
  INITIAL_ADMIN_USERNAME,
  isAllowed,
  LoginRateLimiter,
  listApiTokens,
  listUsers,
  loginInputSchema,
  newPasswordSchema,
  resetPassword,
  resolveApiToken,
  resolveSession,
  revokeApiToken,
  usernameSchema,
  verifyCredentials,
} from "./services/auth/index.ts";
export type { BatchView, CreateBatchInput } from "./services/batches/index.ts";
export {
  batchTagSchema,
  createBatch,
  createBatchInputSchema,
  getBatch,
  listBatches,
  listBatchesInputSchema,
} from "./services/batches/index.ts";
export type {
  CsvRowError,
  CsvRowSummary,
  ImportCsvInput,
  ImportPreview,
  ImportResult,
} from "./services/csv-import/index.ts";
export {
  CSV_MAX_ROWS,
  CSV_OPTIONAL_COLUMNS,
  CSV_REQUIRED_COLUMNS,
  csvTemplate,
  importBatch,
  importCsvInputSchema,
  previewImport,
} from "./services/csv-import/index.ts";
export type {
  BulkJobsInput,
  BulkOutcome,
  BulkResult,
  CreateJobInput,
  EditJobInput,
  JobPage,
  JobView,
  ListJobsInput,
} from "./services/jobs/index.ts";
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
} from "./services/jobs/index.ts";
export type { LogChunk, LogPage, LogText, LogWriter, LogWriterOptions } from "./services/logs/index.ts";
export {
  appendLogChunk,
  createLogWriter,
  DEFAULT_LOG_PAGE_BYTES,
  LOG_FLUSH_INTERVAL_MS,
  readLog,
  streamLog,
  trimChunk,
} from "./services/logs/index.ts";
export type {
  JobEndOutcome,
  NotificationConfig,
  NotificationSettings,
  NotificationStatus,
  NotificationTaskDeps,
  NotificationWorker,
  NotificationWorkerOptions,
  RecordWatchInput,
  SmtpConfig,
} from "./services/notifications/index.ts";
export {
  NOTIFICATION_TASKS,
  notificationStatus,
  notificationTasks,
  queueBatchEndCheck,
  queueJobEndNotification,
  recordWatch,
  recordWatchInputSchema,
  smtpConfigSchema,
  startNotificationWorker,
  WATCH_WINDOW_SECONDS,
} from "./services/notifications/index.ts";
export type { ServerInput, ServerView, UpdateServerInput } from "./services/servers/index.ts";
export {
  createServer,
  createServerInputSchema,
  deleteServer,
  getServer,
  getServerForTest,
  listServers,
  serverIdInputSchema,
  serverInputSchema,
  updateServer,
  updateServerInputSchema,
} from "./services/servers/index.ts";
export type { Settings, SettingsPatch } from "./services/settings/index.ts";
export {
  getSettings,
  SETTINGS_DEFAULTS,
  settingsPatchSchema,
  settingsSchema,
  updateSettings,
} from "./services/settings/index.ts";
export {
  cursorSchema,
  EMAIL_PATTERN,
  emailSchema,
  idSchema,
  MAX_ID,
  passwordSchema,
  plainText,
} from "./services/validation.ts";
export type { RecoveryResult, WorkerView } from "./services/workers/index.ts";
export { listWorkers, recoverInterruptedJobs, requeueOrphanedJobs } from "./services/workers/index.ts";
export type { KeyFile } from "./vault/key-file.ts";
export {
  addKeyToKeyFile,
  KEY_FILE_NAME,
  keyFilePath,
  loadOrCreateKeyFile,
  removeKeysFromKeyFile,
} from "./vault/key-file.ts";
export type { RotateKeysOptions, RotateKeysResult } from "./vault/rotate-keys.ts";
export { rotateKeys } from "./vault/rotate-keys.ts";
export type { KeyedVault, VaultKeys } from "./vault/vault.ts";
export { createVault, generateSecretKey, keyIdOf, parseSecretKey } from "./vault/vault.ts";
