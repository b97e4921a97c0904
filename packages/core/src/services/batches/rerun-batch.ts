import type { ServiceContext } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import { type BulkResult, rerunBatchRuns } from "../jobs/bulk.ts";
import { parseInput } from "../validation.ts";
import { ENDED_STATUSES, RERUN_FAILED_STATUSES } from "./batches.ts";
import { batchIdInputSchema } from "./schemas.ts";

async function requireBatch(ctx: Pick<ServiceContext, "db">, id: number): Promise<void> {
  const row = await ctx.db.selectFrom("batches").select("id").where("id", "=", id).executeTakeFirst();
  if (!row) throw new ImapferryError("NOT_FOUND", `There is no batch ${id}.`);
}

/**
 * "Rerun failed": queues again every mailbox of the batch whose latest run failed, was incomplete or
 * was interrupted, with its own dry-run flag. Each new run supersedes the one it reruns. Earlier runs
 * of a pair that a later run already replaced are not touched.
 */
export async function rerunFailedInBatch(
  ctx: Pick<ServiceContext, "db">,
  input: unknown,
): Promise<BulkResult> {
  const { id } = parseInput(batchIdInputSchema, input, "batch");
  await requireBatch(ctx, id);
  return rerunBatchRuns(ctx, id, { statuses: RERUN_FAILED_STATUSES });
}

/**
 * "Run real" after a dry run: queues every mailbox whose latest run was a dry run that has ended as a
 * real run, and makes the batch real, so jobs added to it later copy mail too.
 */
export async function runBatchReal(ctx: Pick<ServiceContext, "db">, input: unknown): Promise<BulkResult> {
  const { id } = parseInput(batchIdInputSchema, input, "batch");
  await requireBatch(ctx, id);
  const result = await rerunBatchRuns(ctx, id, {
    statuses: ENDED_STATUSES,
    dryRunsOnly: true,
    dryRun: false,
  });
  await ctx.db.updateTable("batches").set({ dry_run: false }).where("id", "=", id).execute();
  return result;
}
