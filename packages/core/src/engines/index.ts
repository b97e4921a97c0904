export type { WireLogin } from "./admin-login.ts";
export { wireLogin } from "./admin-login.ts";
// The folder states a built-in run starts from and reports, as the worker keeps them for the check.
export { FolderStates } from "./builtin/sync-state.ts";
export type {
  ConnectionFailureCategory,
  ConnectionTestResult,
  ImapCredentials,
  ImapServerEndpoint,
  TestConnectionOptions,
} from "./connection-test.ts";
export {
  CONNECTION_FAILURE_CATEGORIES,
  classifyConnectionError,
  testConnection,
} from "./connection-test.ts";
export {
  ALWAYS_ARGS,
  buildImapsyncArgs,
  encodeImapFolderName,
  engineEnv,
  FORBIDDEN_ARGS,
} from "./imapsync/args.ts";
export type {
  DescribeExitInput,
  ExitCategory,
  ExitDescription,
  ImapsyncExitCode,
  MailboxRef,
} from "./imapsync/exit-codes.ts";
export { describeExit, EXIT_CATEGORIES, IMAPSYNC_EXIT_CODES } from "./imapsync/exit-codes.ts";
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
} from "./imapsync/parser.ts";
export { createOutputParser, parseOutput } from "./imapsync/parser.ts";
export { testConnectionWithOAuth2 } from "./oauth2-connection-test.ts";
export type { EngineOptions, EngineOptionsInput, EnginePreset } from "./options.ts";
export { ENGINE_PRESETS, engineOptionsSchema, parseEngineOptions } from "./options.ts";
export type { PreflightFolder, PreflightOptions, PreflightResult } from "./preflight.ts";
export { preflight } from "./preflight.ts";
export type {
  EngineStateChannel,
  OutputStream,
  RunEngineOptions,
  RunEngineResult,
  RunMigrationEngineOptions,
} from "./run-engine.ts";
export { createLineSplitter, runEngine, runMigrationEngine } from "./run-engine.ts";
export type { EngineChoice, ResolvedEngine, ResolveEngineOptions } from "./select-engine.ts";
export { builtinEngineCommand, resolveEngine } from "./select-engine.ts";
export type { ServerCertificate } from "./server-certificate.ts";
export { readServerCertificate } from "./server-certificate.ts";
export type { AdminLogin, EndpointSpec, EngineKind, MigrationSpec } from "./types.ts";
export type { CopyLedgers } from "./verification/ledger-check.ts";
