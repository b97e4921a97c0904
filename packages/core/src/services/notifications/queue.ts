import type { Database } from "@imapferry/db";
import { type Kysely, sql } from "kysely";

/** graphile-worker task identifiers of the notification system. */
export const NOTIFICATION_TASKS = {
  /** Payload { jobId }: queued by the job system when a job ends done or failed. */
  jobEnd: "notify_job_end",
  /**
   * Payload { batchId }: sends the batch summary if the batch has ended. For ends that do not queue
   * notify_job_end (a batch's last job cancelled or deleted), so the summary still goes out.
   */
  batchCheck: "notify_batch_check",
  /** Payload { batchId }: a batch plan's cutover has ended; records its summary. */
  cutover: "notify_plan_cutover",
  /** Payload { notificationId }: sends one recorded notification, retried with backoff. */
  send: "send_notification",
} as const;

/**
 * graphile-worker retries a failed attempt after exp(min(attempt, 10)) seconds: 25 attempts keep
 * trying for about four days, which outlasts any SMTP maintenance window.
 */
export const DEFAULT_SEND_ATTEMPTS = 25;

/**
 * graphile-worker priority of every notification task (lower runs first; smallint's minimum): when the
 * tasks share a runner with migrations, the next free slot goes to an email before the next migration,
 * instead of the email waiting behind the whole migration queue.
 */
export const NOTIFICATION_PRIORITY = -32768;

/**
 * Queues `notify_job_end` for a job that has just ended. Call it with the transaction that marks the
 * job done or failed (never cancelled), so the notification exists exactly when the status does.
 */
export async function queueJobEndNotification(db: Kysely<Database>, jobId: number): Promise<void> {
  await sql`select graphile_worker.add_job(
      ${NOTIFICATION_TASKS.jobEnd},
      json_build_object('jobId', ${jobId}::int),
      priority => ${NOTIFICATION_PRIORITY}::int
    )`.execute(db);
}

/**
 * Queues a check whether a batch has ended (then its summary goes out, once). Call it when a job of a
 * batch is cancelled or deleted: those do not queue notify_job_end, and may be the batch's last job.
 */
export async function queueBatchEndCheck(db: Kysely<Database>, batchId: number): Promise<void> {
  await sql`select graphile_worker.add_job(
      ${NOTIFICATION_TASKS.batchCheck},
      json_build_object('batchId', ${batchId}::int),
      priority => ${NOTIFICATION_PRIORITY}::int
    )`.execute(db);
}

/** Queues the sending of a recorded notification; called in the transaction that records it. */
export async function queueSendNotification(
  db: Kysely<Database>,
  notificationId: number,
  maxAttempts: number,
): Promise<void> {
  await sql`select graphile_worker.add_job(
      ${NOTIFICATION_TASKS.send},
      json_build_object('notificationId', ${notificationId}::int),
      max_attempts => ${maxAttempts}::int,
      priority => ${NOTIFICATION_PRIORITY}::int
    )`.execute(db);
}

/** Queues the cutover summary of a batch's plan; called in the transaction that ends the plan. */
export async function queueCutoverNotification(db: Kysely<Database>, batchId: number): Promise<void> {
  await sql`select graphile_worker.add_job(
      ${NOTIFICATION_TASKS.cutover},
      json_build_object('batchId', ${batchId}::int),
      priority => ${NOTIFICATION_PRIORITY}::int
    )`.execute(db);
}
