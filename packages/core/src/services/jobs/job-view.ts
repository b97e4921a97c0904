import type { CredentialRequestStatus, JobProgress, JobRow, JobStatus, OptionOrigin } from "@imapferry/db";
import { type CredentialRequestView, toCredentialRequestView } from "../credential-requests/request-view.ts";

/**
 * A job as the API and the panel see it. Built field by field from the row, so a credential column
 * can never leak into an API response by being added to a select.
 */
export interface JobView {
  id: number;
  name: string;
  batchId: number | null;
  batchTag: string | null;
  tenant: string | null;
  pool: string | null;
  sourceServerId: number;
  sourceServerName: string | null;
  sourceEmail: string;
  destServerId: number;
  destServerName: string | null;
  destEmail: string;
  dryRun: boolean;
  options: Record<string, unknown>;
  /**
   * Where each option that some level set came from: "job" (set on the job), "row" (its CSV row),
   * "batch", "settings", "plan" (a plan's pass); options not listed have their built-in default.
   */
  optionOrigins: Record<string, OptionOrigin>;
  status: JobStatus;
  /** Higher runs first among queued jobs. */
  priority: number;
  progress: JobProgress | null;
  /** The engine's final statistics (copied, skipped, bytes, …), once it ended. */
  stats: Record<string, unknown> | null;
  exitCode: number | null;
  /** A machine category for the outcome ("auth-source", "quota", "interrupted", …). */
  errorCategory: string | null;
  /**
   * The sentence an operator reads: what went wrong and what to do; for a finished dry run, what a
   * real run would do ("Would copy 42, 6 already there, 0 cannot be copied.").
   */
  errorMessage: string | null;
  workerId: string | null;
  /** 1 for the first run; higher when the job was resumed (its worker died, or it retried by itself). */
  attempt: number;
  /** While waiting: when it resumes by itself (after a dropped connection or throttling). */
  resumeAt: Date | null;
  /** Automatic retries so far (see the retry settings). */
  autoRetries: number;
  rerunOf: number | null;
  /** In a batch: the later run of the same mailbox pair that replaced this one; null for the latest. */
  supersededBy: number | null;
  logBytes: number;
  cancelRequestedAt: Date | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /**
   * The job's latest link asking the mailbox owner for the source password (status awaiting_credentials),
   * with whether it was emailed, reminded, used or expired; null when none was ever issued.
   */
  credentialRequest: CredentialRequestView | null;
}

/** The columns a JobView is made from (never the secrets). */
export const JOB_VIEW_COLUMNS = [
  "jobs.id",
  "jobs.name",
  "jobs.batch_id",
  "jobs.tenant",
  "jobs.pool",
  "jobs.source_server_id",
  "jobs.source_email",
  "jobs.dest_server_id",
  "jobs.dest_email",
  "jobs.dry_run",
  "jobs.options",
  "jobs.option_origins",
  "jobs.status",
  "jobs.resume_at",
  "jobs.auto_retries",
  "jobs.priority",
  "jobs.progress",
  "jobs.stats",
  "jobs.exit_code",
  "jobs.error_category",
  "jobs.error_message",
  "jobs.worker_id",
  "jobs.attempt",
  "jobs.rerun_of",
  "jobs.superseded_by",
  "jobs.log_bytes",
  "jobs.cancel_requested_at",
  "jobs.created_at",
  "jobs.started_at",
  "jobs.finished_at",
] as const;

/** A column of JOB_VIEW_COLUMNS without its table prefix. */
type JobViewColumn<C = (typeof JOB_VIEW_COLUMNS)[number]> = C extends `jobs.${infer Name}` ? Name : never;

/** A jobs row with the JobView columns, and the names joined in when the query asked for them. */
export type JobViewRow = Pick<JobRow, JobViewColumn> & {
  batch_tag?: string | null;
  source_server_name?: string | null;
  dest_server_name?: string | null;
} & Partial<CredentialRequestJoin>;

/** The job's latest credential link, joined in by the jobs' views (see jobs.ts); all null without one. */
export interface CredentialRequestJoin {
  cr_id: number | null;
  cr_status: CredentialRequestStatus | null;
  cr_owner_email: string | null;
  cr_created_at: Date | null;
  cr_expires_at: Date | null;
  cr_emailed_at: Date | null;
  cr_email_error: string | null;
  cr_reminders_sent: number | null;
  cr_last_reminder_at: Date | null;
  cr_failed_attempts: number | null;
  cr_used_at: Date | null;
}

function credentialRequestOf(row: Partial<CredentialRequestJoin>): CredentialRequestView | null {
  if (row.cr_id === undefined || row.cr_id === null) return null;
  return toCredentialRequestView({
    id: row.cr_id,
    status: row.cr_status ?? "pending",
    owner_email: row.cr_owner_email ?? null,
    created_at: row.cr_created_at ?? new Date(0),
    expires_at: row.cr_expires_at ?? new Date(0),
    emailed_at: row.cr_emailed_at ?? null,
    email_error: row.cr_email_error ?? null,
    reminders_sent: row.cr_reminders_sent ?? 0,
    last_reminder_at: row.cr_last_reminder_at ?? null,
    failed_attempts: row.cr_failed_attempts ?? 0,
    used_at: row.cr_used_at ?? null,
  });
}

export function toJobView(row: JobViewRow): JobView {
  return {
    id: row.id,
    name: row.name,
    batchId: row.batch_id,
    batchTag: row.batch_tag ?? null,
    tenant: row.tenant,
    pool: row.pool,
    sourceServerId: row.source_server_id,
    sourceServerName: row.source_server_name ?? null,
    sourceEmail: row.source_email,
    destServerId: row.dest_server_id,
    destServerName: row.dest_server_name ?? null,
    destEmail: row.dest_email,
    dryRun: row.dry_run,
    options: row.options ?? {},
    optionOrigins: row.option_origins ?? {},
    // A running job with a resume time waits in process for a server's suggested backoff.
    status: row.status === "running" && row.resume_at ? "waiting" : row.status,
    priority: row.priority,
    progress: row.progress,
    stats: row.stats,
    exitCode: row.exit_code,
    errorCategory: row.error_category,
    errorMessage: row.error_message,
    workerId: row.worker_id,
    attempt: row.attempt,
    resumeAt: row.resume_at ?? null,
    autoRetries: row.auto_retries ?? 0,
    rerunOf: row.rerun_of,
    supersededBy: row.superseded_by ?? null,
    logBytes: Number(row.log_bytes),
    cancelRequestedAt: row.cancel_requested_at,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    credentialRequest: credentialRequestOf(row),
  };
}
