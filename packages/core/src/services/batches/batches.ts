import type { JobStatus } from "@imapferry/db";
import { JOB_STATUSES } from "@imapferry/db";
import { sql } from "kysely";
import type { ServiceContext } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import { relayerOptions } from "../jobs/relayer-options.ts";
import { getSettings } from "../settings/settings.ts";
import { idSchema, parseInput } from "../validation.ts";
import { createBatchInputSchema, listBatchesInputSchema, updateBatchInputSchema } from "./schemas.ts";

export interface BatchView {
  id: number;
  tag: string;
  tenant: string | null;
  pool: string | null;
  dryRun: boolean;
  defaults: Record<string, unknown>;
  createdAt: Date;
  /**
   * Mailbox pairs of the batch per status of their latest run (a rerun replaces the run it reran;
   * deleted jobs not counted).
   */
  counts: Record<JobStatus, number>;
  /** Mailbox pairs in the batch. */
  total: number;
  /** Latest runs that were dry runs and have ended: what "Run real" (batches.runReal) queues again. */
  endedDryRuns: number;
}

/** What "Rerun failed" takes: latest runs that failed, left mail behind, or lost their worker. */
export const RERUN_FAILED_STATUSES = ["failed", "incomplete", "interrupted"] as const satisfies JobStatus[];
/** Runs that have ended, which a rerun may replace. */
export const ENDED_STATUSES = [
  "done",
  "incomplete",
  "failed",
  "cancelled",
  "interrupted",
] as const satisfies JobStatus[];

interface BatchCounts {
  counts: Record<JobStatus, number>;
  endedDryRuns: number;
}

export function emptyCounts(): Record<JobStatus, number> {
  return Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
}

/** A tag nobody has used yet, for imports that did not name one: "import-2026-11-23-0815-3f2a". */
export function defaultBatchTag(now: Date): string {
  const stamp = now.toISOString().slice(0, 16).replace("T", "-").replace(":", "");
  return `import-${stamp}-${Math.random().toString(16).slice(2, 6)}`;
}

/** Creates an empty batch (jobs are added with createJob({ batchId })). The tenant's routing rule picks the pool. */
export async function createBatch(ctx: Pick<ServiceContext, "db">, input: unknown): Promise<BatchView> {
  const v = parseInput(createBatchInputSchema, input, "batch");
  const settings = await getSettings(ctx);
  try {
    const row = await ctx.db
      .insertInto("batches")
      .values({
        tag: v.tag,
        tenant: v.tenant ?? null,
        pool: v.pool ?? (v.tenant ? (settings.tenantPools[v.tenant] ?? null) : null),
        dry_run: v.dryRun,
        defaults: v.defaults,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    return getBatch(ctx, row.id);
  } catch (e: unknown) {
    throw mapDuplicateTag(e, v.tag);
  }
}

export function mapDuplicateTag(e: unknown, tag: string): unknown {
  if ((e as { code?: string; constraint?: string }).code === "23505") {
    return new ImapferryError("CONFLICT", `A batch tagged "${tag}" already exists. Choose another tag.`, [
      { path: ["tag"], message: "already used" },
    ]);
  }
  return e;
}

async function countsFor(
  ctx: Pick<ServiceContext, "db">,
  batchIds: number[],
): Promise<Map<number, BatchCounts>> {
  const result = new Map<number, BatchCounts>();
  for (const id of batchIds) result.set(id, { counts: emptyCounts(), endedDryRuns: 0 });
  if (batchIds.length === 0) return result;
  const rows = await ctx.db
    .selectFrom("jobs")
    .select([
      "batch_id",
      "status",
      sql<string>`count(*)`.as("n"),
      sql<string>`count(*) filter (where dry_run)`.as("dry_runs"),
    ])
    .where("batch_id", "in", batchIds)
    .where("deleted_at", "is", null)
    .where("superseded_by", "is", null)
    .groupBy(["batch_id", "status"])
    .execute();
  const ended = new Set<JobStatus>(ENDED_STATUSES);
  for (const row of rows) {
    const entry = row.batch_id === null ? undefined : result.get(row.batch_id);
    if (!entry) continue;
    entry.counts[row.status] = Number(row.n);
    if (ended.has(row.status)) entry.endedDryRuns += Number(row.dry_runs);
  }
  return result;
}

export async function getBatch(ctx: Pick<ServiceContext, "db">, id: number): Promise<BatchView> {
  const parsedId = idSchema.safeParse(id);
  if (!parsedId.success) throw new ImapferryError("BAD_INPUT", "A batch id is a positive integer.");
  const row = await ctx.db.selectFrom("batches").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) throw new ImapferryError("NOT_FOUND", `There is no batch ${id}.`);
  const counts = (await countsFor(ctx, [id])).get(id);
  return toBatchView(row, counts ?? { counts: emptyCounts(), endedDryRuns: 0 });
}

/** Newest first, with the number of jobs per status. */
export async function listBatches(
  ctx: Pick<ServiceContext, "db">,
  input: unknown = {},
): Promise<{ items: BatchView[]; nextCursor: string | null }> {
  const v = parseInput(listBatchesInputSchema, input ?? {}, "batch filter");
  let q = ctx.db.selectFrom("batches").selectAll();
  if (v.tenant !== undefined) q = q.where("tenant", "=", v.tenant);
  if (v.cursor !== undefined) q = q.where("id", "<", Number(v.cursor));
  const rows = await q
    .orderBy("id", "desc")
    .limit(v.limit + 1)
    .execute();
  const page = rows.slice(0, v.limit);
  const counts = await countsFor(
    ctx,
    page.map((r) => r.id),
  );
  const last = page.at(-1);
  return {
    items: page.map((r) => toBatchView(r, counts.get(r.id) ?? { counts: emptyCounts(), endedDryRuns: 0 })),
    nextCursor: rows.length > v.limit && last ? String(last.id) : null,
  };
}

function toBatchView(
  row: {
    id: number;
    tag: string;
    tenant: string | null;
    pool: string | null;
    dry_run: boolean;
    defaults: Record<string, unknown>;
    created_at: Date;
  },
  { counts, endedDryRuns }: BatchCounts,
): BatchView {
  return {
    id: row.id,
    tag: row.tag,
    tenant: row.tenant,
    pool: row.pool,
    dryRun: row.dry_run,
    defaults: row.defaults ?? {},
    createdAt: row.created_at,
    counts,
    total: Object.values(counts).reduce((a, b) => a + b, 0),
    endedDryRuns,
  };
}

/**
 * Changes a batch's engine options. Its jobs that have not started yet take them (under their own
 * options from the job or its CSV row), and so does every later rerun; runs that started keep what
 * they ran with.
 */
export async function updateBatch(ctx: Pick<ServiceContext, "db">, input: unknown): Promise<BatchView> {
  const v = parseInput(updateBatchInputSchema, input, "batch change");
  await ctx.db.transaction().execute(async function storeBatchOptions(trx) {
    const batch = await trx
      .updateTable("batches")
      .set({ defaults: JSON.stringify(v.options) })
      .where("id", "=", v.id)
      .returning("id")
      .executeTakeFirst();
    if (!batch) throw new ImapferryError("NOT_FOUND", `There is no batch ${v.id}.`);
    const waiting = await trx
      .selectFrom("jobs")
      .select("id")
      .where("batch_id", "=", v.id)
      .where("status", "=", "queued")
      .where("started_at", "is", null)
      .where("deleted_at", "is", null)
      .forUpdate()
      .execute();
    await relayerOptions(
      trx,
      waiting.map((j) => j.id),
    );
  });
  return getBatch(ctx, v.id);
}
