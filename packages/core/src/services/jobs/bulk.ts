import type { Database, JobStatus } from "@imapferry/db";
import { type Kysely, sql } from "kysely";
import type { ServiceContext } from "../../context.ts";
import type { ImapferryErrorCode } from "../../errors.ts";
import { enqueueJobs, removeQueueEntries } from "../../queue/queue-entries.ts";
import { endPendingLinks } from "../credential-requests/issue-link.ts";
import { queueBatchEndCheck } from "../notifications/queue.ts";
import { parseInput } from "../validation.ts";
import { recordJobStatusEvents } from "../webhooks/events.ts";
import { idIn } from "./id-list.ts";
import { notifyCancel, notifyJobsChanged, notifyJobsDeleted } from "./job-events.ts";
import { relayerOptions } from "./relayer-options.ts";
import { type BULK_ACTIONS, bulkJobsInputSchema } from "./schemas.ts";
import { pairMembersOf, refreshSuperseded } from "./superseded.ts";

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

/** Which jobs of a batch a bulk action takes: its latest runs only, narrowed by status and dry-run flag. */
export interface BatchRunFilter {
  statuses?: readonly JobStatus[];
  /** Only jobs that ran (or will run) as dry runs. */
  dryRunsOnly?: boolean;
  /** Only each mailbox pair's latest run (what a rerun by batch takes). */
  latestOnly?: boolean;
  /** Only runs created before this moment (a cutover's final pass replaces runs older than it). */
  createdBefore?: Date;
}

type BulkTarget = { ids: number[] } | ({ batchId: number } & BatchRunFilter);

async function lockJobs(trx: Db, target: BulkTarget, includeDeleted = false): Promise<LockedJob[]> {
  let q = trx.selectFrom("jobs").select(["id", "status", "batch_id", "deleted_at"]);
  if ("ids" in target) q = q.where(idIn("id", target.ids));
  else {
    q = q.where("batch_id", "=", target.batchId);
    if (target.statuses !== undefined) q = q.where("status", "in", [...target.statuses]);
    if (target.dryRunsOnly) q = q.where("dry_run", "=", true);
    if (target.createdBefore !== undefined) q = q.where("created_at", "<", target.createdBefore);
    // Rechecked on each row once it is locked: a rerun that committed meanwhile has superseded it.
    if (target.latestOnly) q = q.where("superseded_by", "is", null);
  }
  if (!includeDeleted) q = q.where("deleted_at", "is", null);
  // A consistent lock order: two bulk operations over overlapping jobs cannot deadlock.
  return q.orderBy("id").forUpdate().execute();
}

function missingOutcomes(target: BulkTarget, found: LockedJob[]): BulkOutcome[] {
  if (!("ids" in target)) return [];
  const seen = new Set(found.map((j) => j.id));
  return [...new Set(target.ids)]
    .filter((id) => !seen.has(id))
    .map((id) => fail(id, "NOT_FOUND", `There is no job ${id}.`));
}

/**
 * Jobs with no engine that have yet to run: queued, waiting to resume after a passing fault (both with
 * a queue entry), or awaiting their source password from the owner (no entry yet).
 */
function isPending(job: LockedJob): boolean {
  return job.status === "queued" || job.status === "waiting" || job.status === "awaiting_credentials";
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
        error_message: sql<string>`case when status = 'waiting' then 'Cancelled while waiting to resume; what was already copied stays on the destination.' when status = 'awaiting_credentials' then 'Cancelled while waiting for the owner to enter the source password.' else 'Cancelled before it started.' end`,
      })
      .where(idIn("id", queued))
      .execute();
    // Their owners' links stop working with them.
    await endPendingLinks(trx, queued, "cancelled");
    await notifyJobsChanged(trx, queued);
    await recordJobStatusEvents(trx, queued);
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
  await endPendingLinks(trx, queued, "cancelled");
  if (hard) {
    // The pair's other runs lose their pointer with the row (on delete set null): point them again.
    const pairs = await pairMembersOf(trx, ids);
    // job_logs go with the row (on delete cascade); reruns and notifications keep their rows, unlinked.
    await trx.deleteFrom("jobs").where(idIn("id", ids)).execute();
    await refreshSuperseded(trx, pairs);
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
    // A deleted latest run hands the pair's line back to the run before it.
    await refreshSuperseded(trx, ids);
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

/** What a rerun changes in the runs it copies: the dry-run flag, and engine options set or removed. */
export interface RerunOverrides {
  dryRun?: boolean | undefined;
  /** Engine options the new runs take instead of their originals' (a plan's final pass deletes, say). */
  setOptions?: Record<string, unknown>;
  /** Engine options the new runs drop. */
  unsetOptions?: readonly string[];
}

async function rerunLocked(trx: Db, jobs: LockedJob[], overrides: RerunOverrides): Promise<BulkOutcome[]> {
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
            : j.status === "awaiting_credentials"
              ? `Job ${j.id} has not run yet: it is waiting for its owner to enter the source password. Send a new link, or cancel it.`
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
    insert into jobs (name, batch_id, tenant, pool, source_server_id, source_email, source_secret, source_oauth2,
                      dest_server_id, dest_email, dest_secret, dest_oauth2, dry_run, options, option_origins,
                      priority, rerun_of)
    select name, batch_id, tenant, pool, source_server_id, source_email, source_secret, source_oauth2, dest_server_id,
           dest_email, dest_secret, dest_oauth2, coalesce(${overrides.dryRun ?? null}::boolean, dry_run),
           (options - ${sql.val([...(overrides.unsetOptions ?? [])])}::text[])
             || ${JSON.stringify(overrides.setOptions ?? {})}::jsonb,
           option_origins, priority, id
    from jobs where id = any(${sql.val(sources)}::int[])
    order by id
    returning id, rerun_of`.execute(trx);
  const newIds = created.rows.map((r) => r.id);
  // A rerun in a batch runs with the batch's options (and the settings') as they are now, under its own.
  await relayerOptions(trx, newIds, overrides);
  // In a batch, each new run supersedes the earlier runs of its mailbox pair.
  await refreshSuperseded(trx, newIds);
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
  // By batch, a rerun takes each pair's latest run: rerunning earlier ones too would give a pair two new runs.
  const target: BulkTarget =
    v.ids !== undefined ? { ids: v.ids } : { batchId: v.batchId!, latestOnly: v.action === "rerun" };
  return runBulk(ctx, v.action, target, { hard: v.hard, dryRun: v.dryRun });
}

/**
 * Reruns the latest runs of a batch's mailbox pairs that match the filter (earlier runs are history:
 * rerunning them would give a pair two new runs). `dryRun` overrides each job's flag.
 */
export async function rerunBatchRuns(
  ctx: Pick<ServiceContext, "db">,
  batchId: number,
  filter: BatchRunFilter & { dryRun?: boolean },
): Promise<BulkResult> {
  const { dryRun, ...runs } = filter;
  return runBulk(ctx, "rerun", { batchId, ...runs, latestOnly: true }, { hard: false, dryRun });
}

/**
 * rerunBatchRuns inside a transaction the caller holds (a plan's pass records itself in the same one,
 * so a pass is either queued and counted, or neither).
 */
export async function rerunBatchRunsIn(
  trx: Db,
  batchId: number,
  filter: BatchRunFilter,
  overrides: RerunOverrides = {},
): Promise<BulkOutcome[]> {
  const jobs = await lockJobs(trx, { batchId, ...filter, latestOnly: true });
  return rerunLocked(trx, jobs, overrides);
}

async function runBulk(
  ctx: Pick<ServiceContext, "db">,
  action: (typeof BULK_ACTIONS)[number],
  target: BulkTarget,
  options: { hard: boolean; dryRun: boolean | undefined },
): Promise<BulkResult> {
  const results = await ctx.db.transaction().execute(async (trx) => {
    const jobs = await lockJobs(trx, target, action === "delete" && options.hard);
    const missing = missingOutcomes(target, jobs);
    const done =
      action === "cancel"
        ? await cancelLocked(trx, jobs)
        : action === "delete"
          ? await deleteLocked(trx, jobs, options.hard)
          : await rerunLocked(trx, jobs, { dryRun: options.dryRun });
    return [...done, ...missing].sort((a, b) => a.id - b.id);
  });
  const succeeded = results.filter((r) => r.ok).length;
  return { action, succeeded, failed: results.length - succeeded, results };
}
