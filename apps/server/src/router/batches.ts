import type { ServiceContext } from "@imapferry/core";
import {
  assertBatchInScope,
  batchIdInputSchema,
  cutOverPlan,
  getBatch,
  getBatchReport,
  getPlan,
  ImapferryError,
  idSchema,
  importBatch,
  importCsvInputSchema,
  listBatches,
  listBatchesInputSchema,
  pausePlan,
  plainText,
  planBatchInputSchema,
  previewImport,
  reportInputSchema,
  rerunFailedInBatch,
  resumePlan,
  runBatchReal,
  scopedTenant,
  setPlan,
  setPlanInputSchema,
  updateBatch,
  updateBatchInputSchema,
} from "@imapferry/core";
import { z } from "zod";
import { protectedProcedure, router } from "../trpc/init.ts";
import { jsonPlain } from "../trpc/json-plain.ts";
import { auditImportLinks } from "./owner-links.ts";
import { batchIdInScope, planBatchInScope, scopedMutation, scopedQuery } from "./scoped-procedures.ts";

/**
 * A batch's plan: delta passes on a schedule while users still work on the old server, then a
 * cutover (final pass, check, summary email).
 */
const planRouter = router({
  /** The plan, or null when the batch has none. */
  get: scopedQuery(planBatchInputSchema, planBatchInScope, getPlan),
  /** Sets or changes the plan: pass interval, optional cutover time, deletion at cutover. */
  set: scopedMutation(setPlanInputSchema, planBatchInScope, setPlan),
  /** Stops further passes until resumed. */
  pause: scopedMutation(planBatchInputSchema, planBatchInScope, pausePlan),
  resume: scopedMutation(planBatchInputSchema, planBatchInScope, resumePlan),
  /** Cuts over now: one final pass for every mailbox, then the plan ends with a summary. */
  cutover: scopedMutation(planBatchInputSchema, planBatchInScope, cutOverPlan),
});

/** batches.get: by id, or by the tag given at import. */
export const batchLookupInputSchema = z
  .object({ id: idSchema.optional(), tag: plainText(z.string().trim().min(1).max(200)).optional() })
  .refine((v) => (v.id === undefined) !== (v.tag === undefined), {
    message: "Give either the batch's id or its tag.",
    path: ["id"],
  });

export const batchesRouter = router({
  plan: planRouter,

  /** Newest first, with the number of jobs per status. A tenant's token lists its tenant's batches only. */
  list: protectedProcedure
    .input(listBatchesInputSchema.optional())
    .query(async function listBatchesProcedure({ ctx, input }) {
      const tenant = scopedTenant(ctx.principal, input?.tenant);
      return jsonPlain(
        await listBatches(ctx.deps.ctx, { ...input, ...(tenant === undefined ? {} : { tenant }) }),
      );
    }),

  /** By id, or by the tag given at import (what a control panel remembers). */
  get: protectedProcedure.input(batchLookupInputSchema).query(async function getBatchProcedure({
    ctx,
    input,
  }) {
    const id = input.id ?? (await batchIdForTag(ctx.deps.ctx, input.tag ?? "", ctx.principal.tenant));
    await assertBatchInScope(ctx.deps.ctx, ctx.principal, id);
    return jsonPlain(await getBatch(ctx.deps.ctx, id));
  }),

  /** One row per mailbox (its latest run): counts on each side, copied, missing and why, errors. */
  report: scopedQuery(reportInputSchema, batchIdInScope, getBatchReport),

  /** Replaces the batch's engine options: jobs not started yet and every later rerun take them. */
  update: scopedMutation(updateBatchInputSchema, batchIdInScope, updateBatch),

  /** Reruns every mailbox whose latest run failed, was incomplete or interrupted; one outcome per job. */
  rerunFailed: scopedMutation(batchIdInputSchema, batchIdInScope, rerunFailedInBatch),

  /** Queues every mailbox whose latest run was an ended dry run as a real run, and makes the batch real. */
  runReal: scopedMutation(batchIdInputSchema, batchIdInScope, runBatchReal),

  /** Checks a CSV file (every problem, by line and column) and shows the first rows; writes nothing. */
  preview: protectedProcedure.input(importCsvInputSchema).mutation(async function previewImportProcedure({
    ctx,
    input,
  }) {
    const tenant = scopedTenant(ctx.principal, input.tenant);
    return jsonPlain(
      await previewImport(
        ctx.deps.ctx,
        { ...input, ...(tenant === undefined ? {} : { tenant }) },
        ctx.deps.ownerLinks,
      ),
    );
  }),

  /** Imports every row as a job of one new batch, all or nothing; a tenant's token imports into its tenant. */
  import: protectedProcedure.input(importCsvInputSchema).mutation(async function importBatchProcedure({
    ctx,
    input,
  }) {
    const tenant = scopedTenant(ctx.principal, input.tenant);
    const imported = await importBatch(
      ctx.deps.ctx,
      { ...input, ...(tenant === undefined ? {} : { tenant }) },
      ctx.deps.ownerLinks,
    );
    if (imported.ownerLinks.length > 0) await auditImportLinks(ctx.deps.ctx, ctx.principal, ctx.ip, imported);
    return jsonPlain(imported);
  }),
});

/** A tenant's token finds only its tenant's tags: another tenant's is "no batch tagged", not its id. */
async function batchIdForTag(
  ctx: Pick<ServiceContext, "db">,
  tag: string,
  tenant: string | null,
): Promise<number> {
  let query = ctx.db.selectFrom("batches").select("id").where("tag", "=", tag);
  if (tenant !== null) query = query.where("tenant", "=", tenant);
  const row = await query.executeTakeFirst();
  if (!row) throw new ImapferryError("NOT_FOUND", `There is no batch tagged "${tag}".`);
  return row.id;
}
