import { sql } from "kysely";
import { z } from "zod";
import type { ServiceContext } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import { idSchema, parseInput } from "../validation.ts";

type Ctx = Pick<ServiceContext, "db">;

export const planJobInputSchema = z.object({ jobId: idSchema });

/**
 * A single job carries a plan the way a batch does: through a batch of its own. A job outside any
 * batch is given one (tag "job-<id>", its tenant, pool and dry-run flag) the first time a plan is set;
 * its delta passes are then reruns in that batch, exactly as for any batch. A job that is one of
 * several mailboxes of a batch is planned with its batch.
 */
export async function batchForJobPlan(ctx: Ctx, input: unknown): Promise<number> {
  const { jobId } = parseInput(planJobInputSchema, input, "job plan");
  return ctx.db.transaction().execute(async function ownBatch(trx) {
    const job = await trx
      .selectFrom("jobs")
      .select([
        "id",
        "batch_id",
        "tenant",
        "pool",
        "dry_run",
        "source_server_id",
        "source_email",
        "dest_server_id",
        "dest_email",
      ])
      .where("id", "=", jobId)
      .where("deleted_at", "is", null)
      .forUpdate()
      .executeTakeFirst();
    if (!job) throw new ImapferryError("NOT_FOUND", `There is no job ${jobId}.`);
    if (job.batch_id !== null) {
      await assertOwnBatch(trx, job.batch_id, job);
      return job.batch_id;
    }
    const base = `job-${jobId}`;
    const taken = await trx.selectFrom("batches").select("tag").where("tag", "like", `${base}%`).execute();
    const tags = new Set(taken.map((t) => t.tag));
    let tag = base;
    for (let n = 2; tags.has(tag); n++) tag = `${base}-${n}`;
    const batch = await trx
      .insertInto("batches")
      .values({ tag, tenant: job.tenant, pool: job.pool, dry_run: job.dry_run, defaults: sql`'{}'::jsonb` })
      .returning("id")
      .executeTakeFirstOrThrow();
    await trx.updateTable("jobs").set({ batch_id: batch.id }).where("id", "=", jobId).execute();
    return batch.id;
  });
}

/** The batch whose plan is the job's; NOT_FOUND when the job has none (no plan was ever set for it). */
export async function planBatchOfJob(ctx: Ctx, input: unknown): Promise<number> {
  const { jobId } = parseInput(planJobInputSchema, input, "job plan");
  const job = await ctx.db
    .selectFrom("jobs")
    .select(["batch_id", "source_server_id", "source_email", "dest_server_id", "dest_email"])
    .where("id", "=", jobId)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  if (!job) throw new ImapferryError("NOT_FOUND", `There is no job ${jobId}.`);
  if (job.batch_id === null)
    throw new ImapferryError("NOT_FOUND", `Job ${jobId} has no plan. Set one first.`);
  await assertOwnBatch(ctx.db, job.batch_id, { id: jobId, ...job });
  return job.batch_id;
}

/** Refuses a job that shares its batch with other mailboxes: its plan is the batch's. */
async function assertOwnBatch(
  db: Ctx["db"],
  batchId: number,
  job: {
    id: number;
    source_server_id: number;
    source_email: string;
    dest_server_id: number;
    dest_email: string;
  },
): Promise<void> {
  const others = await db
    .selectFrom("jobs")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("batch_id", "=", batchId)
    .where("deleted_at", "is", null)
    .where((eb) =>
      eb.or([
        eb("source_server_id", "!=", job.source_server_id),
        eb("source_email", "!=", job.source_email),
        eb("dest_server_id", "!=", job.dest_server_id),
        eb("dest_email", "!=", job.dest_email),
      ]),
    )
    .executeTakeFirstOrThrow();
  if (Number(others.n) > 0) {
    const batch = await db
      .selectFrom("batches")
      .select("tag")
      .where("id", "=", batchId)
      .executeTakeFirstOrThrow();
    throw new ImapferryError(
      "BAD_INPUT",
      `Job ${job.id} is one of several mailboxes of batch "${batch.tag}": its plan is the batch's (plan batch ${batchId}).`,
      [{ path: ["jobId"], message: "in a batch with other mailboxes" }],
    );
  }
}
