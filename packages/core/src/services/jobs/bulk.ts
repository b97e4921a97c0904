import type { Database, JobStatus } from "@imapferry/db";
import { type Kysely, sql } from "kysely";
import type { ServiceContext } from "../../context.ts";
import type { ImapferryErrorCode } from "../../errors.ts";
import { enqueueJobs, removeQueueEntries } from "../../queue/queue-entries.ts";
import { queueBatchEndCheck } from "../notifications/queue.ts";
import { parseInput } from "../validation.ts";
import { idIn } from "./id-list.ts";
import { notifyCancel, notifyJobsChanged, notifyJobsDeleted } from "./job-events.ts";
import { type BULK_ACTIONS, bulkJobsInputSchema } from "./schemas.ts";

export interface BulkOutcome {
  id: number;
  ok: boolean;
  /** rerun: the new job. */
  newJobId?: number;
  error?: { code: ImapferryErrorCode; message: string };
}
export interface BulkResult {
  action: (typeof BULK_ACTIONS)[number];
  succeeded: number;
  failed: number;
  results: BulkOutcome[];
}

type Db = Kysely<Database>;

function fail(id: number, code: ImapferryErrorCode, message: string): BulkOutcome {
  return { id, ok: false, error: { code, message } };
}

interface LockedJob {
  id: number;
  status: JobStatus;
  batch_id: number | null;
  deleted_at: Date | null;
}

async function lockJobs(
  trx: Db,
  target: { ids: number[] } | { batchId: number },
  includeDeleted = false,
): Promise<LockedJob[]> {
  let q = trx.selectFrom("jobs").select(["id", "status", "batch_id", "deleted_at"]);
  q = "ids" in target ? q.where(idIn("id", target.ids)) : q.where("batch_id", "=", target.batchId);
  if (!includeDeleted) q = q.where("deleted_at", "is", null);
  // A consistent lock order: two bulk operations over overlapping jobs cannot deadlock.
  return q.orderBy("id").forUpdate().execute();
}

function missingOutcomes(target: { ids: number[] } | { batchId: number }, found: LockedJob[]): BulkOutcome[] {
  if (!("ids" in target)) return [];
  const seen = new Set(found.map((j) => j.id));
  return [...new Set(target.ids)]
    .filter((id) => !seen.has(id))
    .map((id) => fail(id, "NOT_FOUND", `There is no job ${id}.`));
}

/** Jobs with a queue entry and no engine: queued, or waiting to resume after a passing fault. */
function isPending(job: LockedJob): boolean {
  return job.status === "queued" || job.status === "waiting";
}

async function cancelLocked(trx: Db, jobs: LockedJob[]): Promise<BulkOutcome[]> {
  const queued = jobs.filter(isPending).map((j) => j.id);
  const running = jobs.filter((j) => j.status === "running").map((j) => j.id);
  if (queued.length > 0) {
    await removeQueueEntries(trx, queued);
    await trx
      .updateTable("jobs")
      .set({
        status: "cancelled",
        finished_at: sql<Date>`now()`,
        cancel_requested_at: sql<Date>`now()`,
        resume_at: null,
        error_category: "cancelled",
        error_message: sql<string>`case when status = 'waiting' then 'Cancelled while waiting to resume; what was already copied stays on the destination.' else 'Cancelled before it started.' end`,
      })
      .where(idIn("id", queued))
      .execute();
    await notifyJobsChanged(trx, queued);
    await checkBatchesEnded(trx, jobs.filter(isPending));
  }
  if (running.length > 0) {
    // The worker running each job hears this NOTIFY, stops the engine and marks the job cancelled; its
    // heartbeat also reads cancel_requested_at, in case it missed the NOTIFY while reconnecting.
    await trx
      .updateTable("jobs")
      .set({ cancel_requested_at: sql<Date>`now()` })
      .where(idIn("id", running))
      .execute();
    await notifyCancel(trx, running);
  }
  return jobs.map((j) =>
    isPending(j) || j.status === "running"
      ? { id: j.id, ok: true }
      : fail(j.id, "CONFLICT", `Job ${j.id} has already ended (${j.status}); there is nothing to cancel.`),
  );
}

async function deleteLocked(trx: Db, jobs: LockedJob[], hard: boolean): Promise<BulkOutcome[]> {
  const outcomes: BulkOutcome[] = [];
  const deletable: LockedJob[] = [];
  for (const j of jobs) {
    if (j.status === "running") {
      outcomes.push(fail(j.id, "CONFLICT", `Job ${j.id} is running. Cancel it first, then delete it.`));
    } else {
      deletable.push(j);
      outcomes.push({ id: j.id, ok: true });
    }
  }
  const ids = deletable.map((j) => j.id);
  if (ids.length === 0) return outcomes;
  const queued = deletable.filter(isPending).map((j) => j.id);
  await removeQueueEntries(trx, queued);
  if (hard) {
    // job_logs go with the row (on delete cascade); reruns and notifications keep their rows, unlinked.
    await trx.deleteFrom("jobs").where(idIn("id", ids)).execute();
    await notifyJobsDeleted(
      trx,
      deletable.map((j) => ({ id: j.id, batchId: j.batch_id })),
    );
  } else {
    if (queued.length > 0) {
      await trx
        .updateTable("jobs")
        .set({
          status: "cancelled",
          finished_at: sql<Date>`now()`,
          error_category: "cancelled",
          error_message: "Deleted before it started.",
        })
        .where(idIn("id", queued))
        .execute();
    }
    await trx
      .updateTable("jobs")
      .set({ deleted_at: sql<Date>`now()` })
      .where(idIn("id", ids))
      .where("deleted_at", "is", null)
      .execute();
    await notifyJobsChanged(trx, ids, { status: "deleted" });
  }
  await checkBatchesEnded(trx, deletable);
  return outcomes;
}

/** Cancelled and deleted jobs send no email, but one of them may have been the last of its batch. */
async function checkBatchesEnded(trx: Db, jobs: LockedJob[]): Promise<void> {
  const batchIds = new Set(jobs.map((j) => j.batch_id).filter((id): id is number => id !== null));
  for (const batchId of batchIds) await queueBatchEndCheck(trx, batchId);
}

async function rerunLocked(trx: Db, jobs: LockedJob[], dryRun: boolean | undefined): Promise<BulkOutcome[]> {
  const outcomes: BulkOutcome[] = [];
  const sources: number[] = [];
  for (const j of jobs) {
    if (isPending(j) || j.status === "running") {
      outcomes.push(
        fail(
          j.id,
          "CONFLICT",
          j.status === "waiting"
            ? `Job ${j.id} is waiting to resume by itself. Use "Resume now", or cancel it, rather than running it again.`
            : `Job ${j.id} is still ${j.status}. Wait for it to end, or cancel it, before running it again.`,
        ),
      );
    } else {
      sources.push(j.id);
    }
  }
  if (sources.length === 0) return outcomes;
  // One statement copies every original (encrypted credentials included: nothing is decrypted here).
  const created = await sql<{ id: number; rerun_of: number }>`
    insert into jobs (name, batch_id, tenant, pool, source_server_id, source_email, source_secret, dest_server_id,
                      dest_email, dest_secret, dry_run, options, priority, rerun_of)
    select name, batch_id, tenant, pool, source_server_id, source_email, source_secret, dest_server_id,
           dest_email, dest_secret, coalesce(${dryRun ?? null}::boolean, dry_run), options, priority, id
    from jobs where id = any(${sql.val(sources)}::int[])
    order by id
    returning id, rerun_of`.execute(trx);
  const newIds = created.rows.map((r) => r.id);
  await enqueueJobs(trx, { jobIds: newIds });
  await notifyJobsChanged(trx, newIds);
  const byOriginal = new Map(created.rows.map((r) => [r.rerun_of, r.id]));
  for (const id of sources) {
    const newJobId = byOriginal.get(id);
    outcomes.push(
      newJobId === undefined
        ? fail(id, "INTERNAL", `Job ${id} could not be copied.`)
        : { id, ok: true, newJobId },
    );
  }
  return outcomes;
}

/** The same operations on many jobs at once, by ids or by batch, in one transaction; one outcome per job. */
export async function bulkJobs(ctx: Pick<ServiceContext, "db">, input: unknown): Promise<BulkResult> {
  const v = parseInput(bulkJobsInputSchema, input, "bulk action");
  const target = v.ids !== undefined ? { ids: v.ids } : { batchId: v.batchId! };
  const results = await ctx.db.transaction().execute(async (trx) => {
    const jobs = await lockJobs(trx, target, v.action === "delete" && v.hard);
    const missing = missingOutcomes(target, jobs);
    const done =
      v.action === "cancel"
        ? await cancelLocked(trx, jobs)
        : v.action === "delete"
          ? await deleteLocked(trx, jobs, v.hard)
          : await rerunLocked(trx, jobs, v.dryRun);
    return [...done, ...missing].sort((a, b) => a.id - b.id);
  });
  const succeeded = results.filter((r) => r.ok).length;
  return { action: v.action, succeeded, failed: results.length - succeeded, results };
}
