import type { Database, JobStatus } from "@imapferry/db";
import { JOB_STATUSES } from "@imapferry/db";
import { type Kysely, sql } from "kysely";
import { z } from "zod";
import type { ServiceContext } from "../../context.ts";
import { engineOptionsSchema } from "../../engines/options.ts";
import { ImapferryError, type ImapferryErrorCode } from "../../errors.ts";
import { enqueueJobs, removeQueueEntries } from "../../queue/queue-entries.ts";
import { queueBatchEndCheck } from "../notifications/queue.ts";
import { lockServersForShare } from "../servers/credential-binding.ts";
import { getSettings } from "../settings/settings.ts";
import { notifyCancel, notifyJobsChanged, notifyJobsDeleted } from "./job-events.ts";
import { JOB_VIEW_COLUMNS, type JobView, type JobViewRow, toJobView } from "./job-view.ts";
import {
  emailSchema,
  idSchema,
  jobNameSchema,
  parseInput,
  passwordSchema,
  poolSchema,
  prioritySchema,
  tenantSchema,
} from "./validation.ts";

/** The engines' allow-list: nothing else can reach an engine's argv. */
export const jobOptionsSchema = engineOptionsSchema;

export const createJobInputSchema = z.object({
  name: jobNameSchema.optional(),
  sourceServerId: idSchema,
  sourceEmail: emailSchema,
  sourcePassword: passwordSchema,
  destServerId: idSchema,
  destEmail: emailSchema,
  destPassword: passwordSchema,
  /** A dry run connects and counts but copies nothing. @defaultValue true */
  dryRun: z.boolean().default(true),
  options: jobOptionsSchema.default(() => jobOptionsSchema.parse({})),
  batchId: idSchema.optional(),
  tenant: tenantSchema.optional(),
  /** Worker pool; defaults to the batch's, then the tenant's routing rule, then the default pool. */
  pool: poolSchema.optional(),
  priority: prioritySchema.default(0),
});
export type CreateJobInput = z.input<typeof createJobInputSchema>;

export const listJobsInputSchema = z.object({
  status: z.union([z.enum(JOB_STATUSES), z.array(z.enum(JOB_STATUSES)).max(JOB_STATUSES.length)]).optional(),
  batchId: idSchema.optional(),
  tenant: z.string().max(200).optional(),
  /** Free text matched against the name and both email addresses. */
  q: z.string().trim().max(200).optional(),
  /** From the previous page's `nextCursor`. */
  cursor: z.string().regex(/^\d+$/).optional(),
  /** @defaultValue 50 */
  limit: z.number().int().min(1).max(500).default(50),
});
export type ListJobsInput = z.input<typeof listJobsInputSchema>;

export interface JobPage {
  items: JobView[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export const editJobInputSchema = z.object({
  id: idSchema,
  name: jobNameSchema.optional(),
  sourceServerId: idSchema.optional(),
  sourceEmail: emailSchema.optional(),
  /** Empty or absent keeps the stored password. */
  sourcePassword: z.union([z.literal(""), passwordSchema]).optional(),
  destServerId: idSchema.optional(),
  destEmail: emailSchema.optional(),
  destPassword: z.union([z.literal(""), passwordSchema]).optional(),
  dryRun: z.boolean().optional(),
  options: jobOptionsSchema.optional(),
  priority: prioritySchema.optional(),
});
export type EditJobInput = z.input<typeof editJobInputSchema>;

export const jobIdInputSchema = z.object({ id: idSchema });
export const deleteJobInputSchema = z.object({
  id: idSchema,
  /** Remove the row, its logs and its queue entry for good (otherwise it is only hidden). @defaultValue false */
  hard: z.boolean().default(false),
});
export const rerunJobInputSchema = z.object({
  id: idSchema,
  /** Override the original's dry-run flag ("Run real" after a dry run, "Dry run" to retest a failure). */
  dryRun: z.boolean().optional(),
});

export const BULK_ACTIONS = ["cancel", "delete", "rerun"] as const;
export const bulkJobsInputSchema = z
  .object({
    action: z.enum(BULK_ACTIONS),
    ids: z.array(idSchema).min(1).max(100_000).optional(),
    batchId: idSchema.optional(),
    /** delete only. @defaultValue false */
    hard: z.boolean().default(false),
    /** rerun only: override every job's dry-run flag. */
    dryRun: z.boolean().optional(),
  })
  .refine((v) => (v.ids === undefined) !== (v.batchId === undefined), {
    message: "Give either a list of job ids or a batch id.",
    path: ["ids"],
  });
export type BulkJobsInput = z.input<typeof bulkJobsInputSchema>;

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

/**
 * `column = any($1::int[])`: one parameter however many ids (a batch of 50,000 jobs would pass
 * PostgreSQL's 65,535-parameter limit as an IN list).
 */
function idIn(column: "id" | "jobs.id", ids: readonly number[]) {
  return sql<boolean>`${sql.ref(column)} = any(${sql.val([...ids])}::int[])`;
}

function selectJobViews(db: Db) {
  return db
    .selectFrom("jobs")
    .leftJoin("batches", "batches.id", "jobs.batch_id")
    .leftJoin("servers as ss", "ss.id", "jobs.source_server_id")
    .leftJoin("servers as ds", "ds.id", "jobs.dest_server_id")
    .select([
      ...JOB_VIEW_COLUMNS,
      "batches.tag as batch_tag",
      "ss.name as source_server_name",
      "ds.name as dest_server_name",
    ]);
}

async function loadViews(db: Db, ids: readonly number[]): Promise<JobView[]> {
  if (ids.length === 0) return [];
  const rows = await selectJobViews(db).where(idIn("jobs.id", ids)).orderBy("jobs.id").execute();
  return rows.map((r) => toJobView(r as JobViewRow));
}

async function assertServersExist(db: Db, ids: number[]): Promise<void> {
  const unique = [...new Set(ids)];
  const found = await db.selectFrom("servers").select("id").where("id", "in", unique).execute();
  const missing = unique.filter((id) => !found.some((f) => f.id === id));
  if (missing.length > 0) {
    throw new ImapferryError(
      "BAD_INPUT",
      `There is no server ${missing.join(", ")}. Add the server first or pick one from the list.`,
      missing.map((id) => ({
        path: [ids[0] === id ? "sourceServerId" : "destServerId"],
        message: `no server ${id}`,
      })),
    );
  }
}

/** Routing: an explicit pool, else the batch's, else the tenant's rule, else the default pool (null). */
export function routePool(
  explicit: string | undefined | null,
  batchPool: string | null,
  tenant: string | null,
  tenantPools: Record<string, string>,
): string | null {
  return explicit ?? batchPool ?? (tenant ? (tenantPools[tenant] ?? null) : null);
}

/** Creates one job and its queue entry in one transaction. Passwords are encrypted before anything is written. */
export async function createJob(ctx: ServiceContext, input: unknown): Promise<JobView> {
  const v = parseInput(createJobInputSchema, input, "job");
  await assertServersExist(ctx.db, [v.sourceServerId, v.destServerId]);
  const settings = await getSettings(ctx);
  const sourceSecret = ctx.vault.encrypt(v.sourcePassword);
  const destSecret = ctx.vault.encrypt(v.destPassword);
  const id = await ctx.db.transaction().execute(async (trx) => {
    await lockServersForShare(trx, [v.sourceServerId, v.destServerId]);
    let batchPool: string | null = null;
    let tenant = v.tenant ?? null;
    let dryRun = v.dryRun;
    let options = v.options;
    if (v.batchId !== undefined) {
      const batch = await trx
        .selectFrom("batches")
        .select(["pool", "tenant", "dry_run", "defaults"])
        .where("id", "=", v.batchId)
        .executeTakeFirst();
      if (!batch)
        throw new ImapferryError("BAD_INPUT", `There is no batch ${v.batchId}.`, [
          { path: ["batchId"], message: "not found" },
        ]);
      batchPool = batch.pool;
      tenant ??= batch.tenant;
      // What the caller left out comes from the batch: its dry-run flag and its engine options.
      const raw = input as Record<string, unknown>;
      if (raw.dryRun === undefined) dryRun = batch.dry_run;
      if (raw.options === undefined)
        options = parseInput(jobOptionsSchema, batch.defaults ?? {}, "batch's engine options");
    }
    const row = await trx
      .insertInto("jobs")
      .values({
        name: v.name ?? `${v.sourceEmail} → ${v.destEmail}`,
        batch_id: v.batchId ?? null,
        tenant,
        pool: routePool(v.pool, batchPool, tenant, settings.tenantPools),
        source_server_id: v.sourceServerId,
        source_email: v.sourceEmail,
        source_secret: sourceSecret,
        dest_server_id: v.destServerId,
        dest_email: v.destEmail,
        dest_secret: destSecret,
        dry_run: dryRun,
        options,
        priority: v.priority,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await enqueueJobs(trx, { jobIds: [row.id] });
    await notifyJobsChanged(trx, [row.id]);
    return row.id;
  });
  return getJob(ctx, id);
}

export async function getJob(ctx: Pick<ServiceContext, "db">, id: number): Promise<JobView> {
  const row = await selectJobViews(ctx.db)
    .where("jobs.id", "=", id)
    .where("jobs.deleted_at", "is", null)
    .executeTakeFirst();
  if (!row) throw new ImapferryError("NOT_FOUND", `There is no job ${id}.`);
  return toJobView(row as JobViewRow);
}

/** Newest first, hiding deleted jobs; `cursor` pages towards older jobs. */
export async function listJobs(ctx: Pick<ServiceContext, "db">, input: unknown = {}): Promise<JobPage> {
  const v = parseInput(listJobsInputSchema, input ?? {}, "job filter");
  let query = selectJobViews(ctx.db).where("jobs.deleted_at", "is", null);
  if (v.status !== undefined) {
    const statuses = Array.isArray(v.status) ? v.status : [v.status];
    if (statuses.length > 0) query = query.where("jobs.status", "in", statuses);
  }
  if (v.batchId !== undefined) query = query.where("jobs.batch_id", "=", v.batchId);
  if (v.tenant !== undefined) query = query.where("jobs.tenant", "=", v.tenant);
  if (v.q) {
    const pattern = `%${v.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([
        eb("jobs.name", "ilike", pattern),
        eb("jobs.source_email", "ilike", pattern),
        eb("jobs.dest_email", "ilike", pattern),
      ]),
    );
  }
  if (v.cursor !== undefined) {
    // Compare with the cursor row's own created_at (microseconds) rather than a value that went through
    // a JS Date (milliseconds), which would skip or repeat rows created in the same millisecond.
    const cursorId = Number(v.cursor);
    query = query.where(
      sql<boolean>`(jobs.created_at, jobs.id) < (select c.created_at, c.id from jobs c where c.id = ${cursorId})`,
    );
  }
  const rows = await query
    .orderBy("jobs.created_at", "desc")
    .orderBy("jobs.id", "desc")
    .limit(v.limit + 1)
    .execute();
  const page = rows.slice(0, v.limit).map((r) => toJobView(r as JobViewRow));
  const last = page.at(-1);
  return { items: page, nextCursor: rows.length > v.limit && last ? String(last.id) : null };
}

/**
 * Changes a job that is not running. An empty password keeps the stored one. A queued job keeps its
 * place in line (its queue entry is rewritten only when the source server changed).
 */
export async function editJob(ctx: ServiceContext, input: unknown): Promise<JobView> {
  const v = parseInput(editJobInputSchema, input, "job change");
  const ids = [v.sourceServerId, v.destServerId].filter((x): x is number => x !== undefined);
  if (ids.length > 0) await assertServersExist(ctx.db, ids);
  const sourceSecret = v.sourcePassword ? ctx.vault.encrypt(v.sourcePassword) : undefined;
  const destSecret = v.destPassword ? ctx.vault.encrypt(v.destPassword) : undefined;
  await ctx.db.transaction().execute(async (trx) => {
    const job = await trx
      .selectFrom("jobs")
      .select(["id", "status", "source_server_id", "source_email", "dest_server_id", "dest_email"])
      .where("id", "=", v.id)
      .where("deleted_at", "is", null)
      .forUpdate()
      .executeTakeFirst();
    if (!job) throw new ImapferryError("NOT_FOUND", `There is no job ${v.id}.`);
    if (job.status === "running") {
      throw new ImapferryError(
        "CONFLICT",
        `Job ${v.id} is running and cannot be edited. Wait for it to end or cancel it first.`,
      );
    }
    assertPasswordsFollowEndpoint(job, v);
    // A server whose endpoint is being changed waits for this job to be written: the check in
    // updateServer then counts it.
    await lockServersForShare(trx, ids);
    await trx
      .updateTable("jobs")
      .set({
        ...(v.name !== undefined ? { name: v.name } : {}),
        ...(v.sourceServerId !== undefined ? { source_server_id: v.sourceServerId } : {}),
        ...(v.sourceEmail !== undefined ? { source_email: v.sourceEmail } : {}),
        ...(sourceSecret !== undefined ? { source_secret: sourceSecret } : {}),
        ...(v.destServerId !== undefined ? { dest_server_id: v.destServerId } : {}),
        ...(v.destEmail !== undefined ? { dest_email: v.destEmail } : {}),
        ...(destSecret !== undefined ? { dest_secret: destSecret } : {}),
        ...(v.dryRun !== undefined ? { dry_run: v.dryRun } : {}),
        ...(v.options !== undefined ? { options: JSON.stringify(v.options) } : {}),
        ...(v.priority !== undefined ? { priority: v.priority } : {}),
      })
      .where("id", "=", v.id)
      .execute();
    const requeue =
      job.status === "queued" &&
      ((v.sourceServerId !== undefined && v.sourceServerId !== job.source_server_id) ||
        v.priority !== undefined);
    if (requeue) await enqueueJobs(trx, { jobIds: [v.id] });
    await notifyJobsChanged(trx, [v.id]);
  });
  return getJob(ctx, v.id);
}

/**
 * A stored password is only ever sent to the endpoint (server and login) it was entered for: moving a
 * job to another server or login needs that side's password again. Otherwise one edit and a rerun
 * would hand the stored password to any server the editor names.
 */
function assertPasswordsFollowEndpoint(
  job: { source_server_id: number; source_email: string; dest_server_id: number; dest_email: string },
  change: z.output<typeof editJobInputSchema>,
): void {
  const sides = [
    {
      side: "source",
      moved:
        (change.sourceServerId !== undefined && change.sourceServerId !== job.source_server_id) ||
        (change.sourceEmail !== undefined && change.sourceEmail !== job.source_email),
      password: change.sourcePassword,
    },
    {
      side: "destination",
      moved:
        (change.destServerId !== undefined && change.destServerId !== job.dest_server_id) ||
        (change.destEmail !== undefined && change.destEmail !== job.dest_email),
      password: change.destPassword,
    },
  ];
  const missing = sides.filter((s) => s.moved && !s.password);
  const first = missing[0];
  if (!first) return;
  throw new ImapferryError(
    "BAD_INPUT",
    `Changing a job's ${first.side} server or login needs the ${first.side} password again: the stored one was entered for another server or login.`,
    missing.map((s) => ({
      path: [s.side === "source" ? "sourcePassword" : "destPassword"],
      message: `Enter the ${s.side} password for the new server or login.`,
    })),
  );
}

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

async function cancelLocked(trx: Db, jobs: LockedJob[]): Promise<BulkOutcome[]> {
  const queued = jobs.filter((j) => j.status === "queued").map((j) => j.id);
  const running = jobs.filter((j) => j.status === "running").map((j) => j.id);
  if (queued.length > 0) {
    await removeQueueEntries(trx, queued);
    await trx
      .updateTable("jobs")
      .set({
        status: "cancelled",
        finished_at: sql<Date>`now()`,
        cancel_requested_at: sql<Date>`now()`,
        error_category: "cancelled",
        error_message: "Cancelled before it started.",
      })
      .where(idIn("id", queued))
      .execute();
    await notifyJobsChanged(trx, queued);
    await checkBatchesEnded(
      trx,
      jobs.filter((j) => j.status === "queued"),
    );
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
    j.status === "queued" || j.status === "running"
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
  const queued = deletable.filter((j) => j.status === "queued").map((j) => j.id);
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
    if (j.status === "queued" || j.status === "running") {
      outcomes.push(
        fail(
          j.id,
          "CONFLICT",
          `Job ${j.id} is still ${j.status}. Wait for it to end, or cancel it, before running it again.`,
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

function throwIfFailed(outcome: BulkOutcome | undefined, id: number): BulkOutcome {
  if (!outcome) throw new ImapferryError("NOT_FOUND", `There is no job ${id}.`);
  if (!outcome.ok && outcome.error) throw new ImapferryError(outcome.error.code, outcome.error.message);
  return outcome;
}

/**
 * A queued job leaves the queue and is cancelled at once. A running job is asked to stop (wherever it
 * runs); it becomes `cancelled` when its worker has stopped the engine, shortly after this returns.
 */
export async function cancelJob(ctx: Pick<ServiceContext, "db">, input: unknown): Promise<JobView> {
  const { id } = parseInput(jobIdInputSchema, input, "job id");
  const result = await bulkJobs(ctx, { action: "cancel", ids: [id] });
  throwIfFailed(result.results[0], id);
  return getJob(ctx, id);
}

/** Hides a job (kept for history) or, with `hard`, removes it with its logs and queue entry. */
export async function deleteJob(ctx: Pick<ServiceContext, "db">, input: unknown): Promise<void> {
  const { id, hard } = parseInput(deleteJobInputSchema, input, "job id");
  const result = await bulkJobs(ctx, { action: "delete", ids: [id], hard });
  throwIfFailed(result.results[0], id);
}

/** A new job copying this one (credentials stay encrypted), pointing back with `rerunOf`. */
export async function rerunJob(ctx: Pick<ServiceContext, "db">, input: unknown): Promise<JobView> {
  const { id, dryRun } = parseInput(rerunJobInputSchema, input, "rerun");
  const result = await bulkJobs(ctx, {
    action: "rerun",
    ids: [id],
    ...(dryRun !== undefined ? { dryRun } : {}),
  });
  const outcome = throwIfFailed(result.results[0], id);
  return getJob(ctx, outcome.newJobId!);
}

export { loadViews as loadJobViews };
