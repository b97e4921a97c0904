import type { ServiceContext } from "@imapferry/core";
import {
  assertJobsInScope,
  batchForJobPlan,
  cutOverPlan,
  getPlan,
  pausePlan,
  planBatchOfJob,
  planJobInputSchema,
  resumePlan,
  setPlan,
  setPlanInputSchema,
} from "@imapferry/core";
import { protectedProcedure, router } from "../trpc/init.ts";
import { jsonPlain } from "../trpc/json-plain.ts";
import { planJobInScope, scopedMutation } from "./scoped-procedures.ts";

const setJobPlanInputSchema = setPlanInputSchema.omit({ batchId: true }).extend(planJobInputSchema.shape);

/** A batch plan's service, for the batch that holds the job's plan. */
function onPlanOfJob<TResult>(
  service: (ctx: ServiceContext, input: { batchId: number }) => Promise<TResult>,
) {
  return async function onPlanOfJobService(ctx: ServiceContext, input: { jobId: number }): Promise<TResult> {
    return service(ctx, { batchId: await planBatchOfJob(ctx, input) });
  };
}

/**
 * A single job's plan (delta passes, then a cutover), as batches.plan has it for a batch: a job outside
 * any batch gets a batch of its own ("job-<id>") when its plan is first set, and its passes are reruns
 * there. A job that is one of several mailboxes of a batch is planned with batches.plan.
 */
export const jobPlanRouter = router({
  /** The plan, or null when the job has none. */
  get: protectedProcedure.input(planJobInputSchema).query(async function getJobPlanProcedure({ ctx, input }) {
    await assertJobsInScope(ctx.deps.ctx, ctx.principal, [input.jobId]);
    const batchId = await planBatchOfJob(ctx.deps.ctx, input).catch(() => null);
    return jsonPlain(batchId === null ? null : await getPlan(ctx.deps.ctx, { batchId }));
  }),
  /** Sets or changes the plan: pass interval, optional cutover time, pre-stage, deletion at cutover. */
  set: protectedProcedure.input(setJobPlanInputSchema).mutation(async function setJobPlanProcedure({
    ctx,
    input,
  }) {
    const { jobId, ...plan } = input;
    await assertJobsInScope(ctx.deps.ctx, ctx.principal, [jobId]);
    const batchId = await batchForJobPlan(ctx.deps.ctx, { jobId });
    return jsonPlain(await setPlan(ctx.deps.ctx, { ...plan, batchId }));
  }),
  pause: scopedMutation(planJobInputSchema, planJobInScope, onPlanOfJob(pausePlan)),
  resume: scopedMutation(planJobInputSchema, planJobInScope, onPlanOfJob(resumePlan)),
  /** Cuts over now: one final pass, the check, the summary; then the plan ends. */
  cutover: scopedMutation(planJobInputSchema, planJobInScope, onPlanOfJob(cutOverPlan)),
});
