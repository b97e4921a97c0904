import type { Database } from "@imapferry/db";
import { type Kysely, sql } from "kysely";
import type { ServiceContext } from "../../context.ts";
import { buildBatchEmail, buildJobEmail, type EmailContext } from "./content.ts";
import { queueSendNotification } from "./queue.ts";
import { readNotificationSettings } from "./settings.ts";
import { batchScope, WATCH_WINDOW_SECONDS } from "./watch.ts";

/** What notify_job_end decided, per notification it considered (returned for logs and tests). */
export type JobEndOutcome =
  | { kind: NotificationKind; result: "queued" | "suppressed" | "duplicate"; notificationId: number | null }
  | { kind: NotificationKind; result: "skipped"; reason: string };

type NotificationKind = "job" | "batch" | "cutover";

export interface JobEndEnv extends EmailContext {
  ctx: ServiceContext;
  maxSendAttempts: number;
}

/** The statuses of a batch's jobs that are still going to end; everything else has ended. */
const UNFINISHED = ["queued", "running", "waiting", "awaiting_credentials"] as const;

async function batchWatched(db: Kysely<Database>, batchId: number | null): Promise<boolean> {
  if (batchId === null) return false;
  const row = await db
    .selectFrom("watch_marks")
    .select("scope")
    .where("scope", "=", batchScope(batchId))
    .where("watched_at", ">", sql<Date>`now() - make_interval(secs => ${WATCH_WINDOW_SECONDS})`)
    .executeTakeFirst();
  return row !== undefined;
}

async function jobWatched(db: Kysely<Database>, jobId: number): Promise<boolean> {
  const row = await db
    .selectFrom("jobs")
    .select("id")
    .where("id", "=", jobId)
    .where("last_watched_at", ">", sql<Date>`now() - make_interval(secs => ${WATCH_WINDOW_SECONDS})`)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Why nobody needs an email about this job or batch: someone watched the job or its batch within the
 * window. Null when nobody did. (Looking at the jobs list marks the jobs it showed, not a list scope.)
 */
async function watchedReason(
  db: Kysely<Database>,
  about: { jobId: number | null; batchId: number | null; jobMeansBatch?: boolean },
): Promise<string | null> {
  if (await batchWatched(db, about.batchId)) return "someone was watching the batch";
  if (about.jobId !== null && (await jobWatched(db, about.jobId))) {
    return about.jobMeansBatch ? "someone was watching the batch" : "someone was watching the job";
  }
  return null;
}

interface NewNotification {
  dedupeKey: string;
  kind: NotificationKind;
  jobId: number | null;
  batchId: number | null;
  recipients: string[];
  subject: string;
  suppressedReason: string | null;
}

/**
 * Records a notification once (the unique dedupe key makes a second attempt a no-op) and, unless it is
 * suppressed, queues its sending in the same transaction.
 */
async function recordNotification(
  trx: Kysely<Database>,
  n: NewNotification,
  maxSendAttempts: number,
): Promise<JobEndOutcome> {
  const inserted = await trx
    .insertInto("notifications")
    .values({
      dedupe_key: n.dedupeKey,
      kind: n.kind,
      job_id: n.jobId,
      batch_id: n.batchId,
      recipients: n.recipients,
      subject: n.subject,
      status: n.suppressedReason === null ? "pending" : "suppressed",
      suppressed_reason: n.suppressedReason,
    })
    .onConflict((oc) => oc.column("dedupe_key").doNothing())
    .returning("id")
    .executeTakeFirst();
  if (!inserted) return { kind: n.kind, result: "duplicate", notificationId: null };
  if (n.suppressedReason !== null) return { kind: n.kind, result: "suppressed", notificationId: inserted.id };
  await queueSendNotification(trx, inserted.id, maxSendAttempts);
  return { kind: n.kind, result: "queued", notificationId: inserted.id };
}

function noRecipientsReason(recipients: string[]): string | null {
  return recipients.length === 0 ? "no notification recipients are set" : null;
}

async function notifyForJob(
  env: JobEndEnv,
  job: { id: number; status: "done" | "incomplete" | "failed"; batch_id: number | null },
  recipients: string[],
): Promise<JobEndOutcome> {
  const email = await buildJobEmail(env, job.id);
  if (!email) return { kind: "job", result: "skipped", reason: "the job has not ended done or failed" };
  return env.ctx.db.transaction().execute(async function recordJobNotification(trx) {
    const suppressedReason =
      noRecipientsReason(recipients) ?? (await watchedReason(trx, { jobId: job.id, batchId: job.batch_id }));
    return recordNotification(
      trx,
      {
        dedupeKey: `job:${job.id}:${job.status}`,
        kind: "job",
        jobId: job.id,
        batchId: job.batch_id,
        recipients,
        subject: email.subject,
        suppressedReason,
      },
      env.maxSendAttempts,
    );
  });
}

async function unfinishedJobs(db: Kysely<Database>, batchId: number): Promise<number> {
  const row = await db
    .selectFrom("jobs")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("batch_id", "=", batchId)
    .where("deleted_at", "is", null)
    .where("status", "in", UNFINISHED)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * The batch summary, queued exactly once: by whichever job end finds no queued or running job left.
 * Each notify_job_end runs after its job's transaction committed, so the last job to end always sees
 * every other one ended; the batch row lock and summary_queued_at make concurrent last ends agree.
 *
 * Suppressed when the batch is watched, or when the job whose end completed the batch
 * was watched (its viewer saw the batch end). Someone looking at an earlier job of the batch does not
 * suppress the summary.
 */
async function notifyForBatch(
  env: JobEndEnv,
  batchId: number,
  recipients: string[],
  lastJobId: number | null,
): Promise<JobEndOutcome> {
  // Cheap check first: most job ends of a big batch are not the last one.
  const batch = await env.ctx.db
    .selectFrom("batches")
    .select(["id", "summary_queued_at"])
    .where("id", "=", batchId)
    .executeTakeFirst();
  if (!batch) return { kind: "batch", result: "skipped", reason: "the batch is gone" };
  if (batch.summary_queued_at !== null) return { kind: "batch", result: "duplicate", notificationId: null };
  if ((await unfinishedJobs(env.ctx.db, batchId)) > 0) {
    return { kind: "batch", result: "skipped", reason: "the batch still has jobs to run" };
  }
  return env.ctx.db.transaction().execute(async function recordBatchSummary(trx): Promise<JobEndOutcome> {
    const locked = await trx
      .selectFrom("batches")
      .select(["id", "summary_queued_at"])
      .where("id", "=", batchId)
      .forUpdate()
      .executeTakeFirst();
    if (!locked) return { kind: "batch", result: "skipped", reason: "the batch is gone" };
    if (locked.summary_queued_at !== null)
      return { kind: "batch", result: "duplicate", notificationId: null };
    if ((await unfinishedJobs(trx, batchId)) > 0) {
      return { kind: "batch", result: "skipped", reason: "the batch still has jobs to run" };
    }
    await trx
      .updateTable("batches")
      .set({ summary_queued_at: sql<Date>`now()` })
      .where("id", "=", batchId)
      .execute();
    const email = await buildBatchEmail({ ...env, ctx: { db: trx, vault: env.ctx.vault } }, batchId);
    if (!email) return { kind: "batch", result: "skipped", reason: "the batch is gone" };
    // The job that completed the batch counts as the batch: an open batch page marks its jobs too.
    const suppressedReason =
      noRecipientsReason(recipients) ??
      (await watchedReason(trx, { jobId: lastJobId, batchId, jobMeansBatch: true }));
    return recordNotification(
      trx,
      {
        dedupeKey: `batch:${batchId}`,
        kind: "batch",
        jobId: null,
        batchId,
        recipients,
        subject: email.subject,
        suppressedReason,
      },
      env.maxSendAttempts,
    );
  });
}

/**
 * What happens when a job has ended: its own email (a job outside a batch, or any job when the
 * setting perJobEmailsInBatches is on) and, for the last job of a batch, the batch summary. Each is
 * recorded in `notifications` (suppressed when someone watched in the last minute) and sent by a
 * separate task, so a slow or absent SMTP server never holds anything up here.
 */
export async function handleJobEnd(env: JobEndEnv, jobId: number): Promise<JobEndOutcome[]> {
  const job = await env.ctx.db
    .selectFrom("jobs")
    .select(["id", "status", "batch_id", "deleted_at"])
    .where("id", "=", jobId)
    .executeTakeFirst();
  if (!job) return [{ kind: "job", result: "skipped", reason: "the job is gone" }];
  if (job.status !== "done" && job.status !== "incomplete" && job.status !== "failed") {
    // Cancelled, or moved on (a resume) before this task ran: nothing to tell.
    return [{ kind: "job", result: "skipped", reason: `the job is ${job.status}` }];
  }
  const settings = await readNotificationSettings(env.ctx);
  const recipients = settings.notificationRecipients;
  const outcomes: JobEndOutcome[] = [];
  if (job.deleted_at === null && (job.batch_id === null || settings.perJobEmailsInBatches)) {
    outcomes.push(
      await notifyForJob(env, { id: job.id, status: job.status, batch_id: job.batch_id }, recipients),
    );
  }
  if (job.batch_id !== null) outcomes.push(await notifyForBatch(env, job.batch_id, recipients, job.id));
  return outcomes;
}

/** The batch summary if the batch has ended and it was not queued yet (see queueBatchEndCheck). */
export async function handleBatchEndCheck(env: JobEndEnv, batchId: number): Promise<JobEndOutcome> {
  const settings = await readNotificationSettings(env.ctx);
  return notifyForBatch(env, batchId, settings.notificationRecipients, null);
}

/**
 * The summary of a batch plan's cutover ("cut over: 3 mailboxes complete, 1 needs attention"), once
 * per cutover. Not suppressed by someone watching: it is the record that the migration is over.
 */
export async function handlePlanCutover(env: JobEndEnv, batchId: number): Promise<JobEndOutcome> {
  const settings = await readNotificationSettings(env.ctx);
  const recipients = settings.notificationRecipients;
  const email = await buildBatchEmail(env, batchId, { cutover: true });
  if (!email) return { kind: "cutover", result: "skipped", reason: "the batch is gone" };
  return env.ctx.db.transaction().execute(async function recordCutoverSummary(trx) {
    const plan = await trx
      .selectFrom("batch_plans")
      .select(["cutover_started_at", "phase"])
      .where("batch_id", "=", batchId)
      .executeTakeFirst();
    if (plan?.phase !== "ended" || !plan.cutover_started_at) {
      return { kind: "cutover", result: "skipped", reason: "the batch has no ended cutover" };
    }
    return recordNotification(
      trx,
      {
        dedupeKey: `cutover:${batchId}:${plan.cutover_started_at.getTime()}`,
        kind: "cutover",
        jobId: null,
        batchId,
        recipients,
        subject: email.subject,
        suppressedReason: noRecipientsReason(recipients),
      },
      env.maxSendAttempts,
    );
  });
}
