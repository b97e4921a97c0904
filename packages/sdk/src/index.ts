export type { AppRouter } from "@imapferry/server";
export { TRPCClientError } from "@trpc/client";
export type { BatchHelpers, MailboxRow, WaitForBatchOptions } from "./batches.ts";
export { rowsToCsv } from "./batches.ts";
export type { ApiClient, ClientOptions, FetchLike, ImapferryClient } from "./client.ts";
export { createClient } from "./client.ts";
export { isRetryable } from "./errors.ts";
export type { FollowLogsOptions, LogHelpers } from "./logs.ts";
export type {
  ApiToken,
  Batch,
  Health,
  ImportOptions,
  ImportPreview,
  ImportResult,
  Job,
  JobEvent,
  JobPage,
  RouterInputs,
  RouterOutputs,
  Server,
  Settings,
} from "./types.ts";
export type { WatchHelpers, WatchJobsOptions } from "./watch-jobs.ts";
