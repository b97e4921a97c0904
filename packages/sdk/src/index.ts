export type { AppRouter } from "@imapferry/server";
export { TRPCClientError } from "@trpc/client";
export type {
  BatchHelpers,
  MailboxRow,
  RejectedMailboxRow,
  RowsImportResult,
  WaitForBatchOptions,
} from "./batches.ts";
export { rowsToCsv } from "./batches.ts";
export type { ClientOptions, ImapferryClient } from "./client.ts";
export { createClient } from "./client.ts";
export type { FollowLogsOptions, LogHelpers } from "./logs.ts";
export { isRetryable } from "./retry.ts";
export type {
  ApiClient,
  ApiToken,
  ApiTokenRole,
  AuditEvent,
  Batch,
  BatchPlan,
  BatchReport,
  BatchReportRow,
  CredentialRequest,
  FetchLike,
  Health,
  ImportOptions,
  ImportPreview,
  ImportResult,
  Job,
  JobBudgetUsage,
  JobEvent,
  JobPage,
  JobReport,
  JobStatus,
  Me,
  NewApiToken,
  NewWebhookEndpoint,
  OAuth2Connection,
  RouterInputs,
  RouterOutputs,
  Server,
  Settings,
  StartedConnection,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEventType,
} from "./types.ts";
export type { WatchHelpers, WatchJobsOptions } from "./watch-jobs.ts";
export { verifyWebhookSignature } from "./webhook-signature.ts";
