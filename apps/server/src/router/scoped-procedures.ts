import type { Principal, ServiceContext } from "@imapferry/core";
import { assertBatchInScope, assertJobsInScope } from "@imapferry/core";
import type { z } from "zod";
import { protectedProcedure } from "../trpc/init.ts";
import type { JsonPlain } from "../trpc/json-plain.ts";
import { jsonPlain } from "../trpc/json-plain.ts";
import type { RouterDeps } from "../trpc/router-deps.ts";

/**
 * Refuses input naming a job or batch outside the caller's tenant (NOT_FOUND, as if it did not exist).
 * Each check reads the id where its inputs keep it.
 */
export type ScopeCheck<TInput> = (ctx: ServiceContext, caller: Principal, input: TInput) => Promise<void>;

/** The job at `input.id`. */
export function jobIdInScope(ctx: ServiceContext, caller: Principal, input: { id: number }): Promise<void> {
  return assertJobsInScope(ctx, caller, [input.id]);
}

/** The job at `input.jobId`, as a job plan's inputs name it. */
export function planJobInScope(
  ctx: ServiceContext,
  caller: Principal,
  input: { jobId: number },
): Promise<void> {
  return assertJobsInScope(ctx, caller, [input.jobId]);
}

/** The batch at `input.id`. */
export function batchIdInScope(ctx: ServiceContext, caller: Principal, input: { id: number }): Promise<void> {
  return assertBatchInScope(ctx, caller, input.id);
}

/** The batch at `input.batchId`, as a batch plan's inputs name it. */
export function planBatchInScope(
  ctx: ServiceContext,
  caller: Principal,
  input: { batchId: number },
): Promise<void> {
  return assertBatchInScope(ctx, caller, input.batchId);
}

/**
 * A read of one job or batch, the whole procedure: validate the input, check the caller may see what it
 * names, call one core service with it and answer the result as JSON.
 */
export function scopedQuery<TInput, TParsed, TResult>(
  schema: z.ZodType<TParsed, TInput>,
  inScope: ScopeCheck<TParsed>,
  service: (ctx: ServiceContext, input: TParsed) => Promise<TResult>,
) {
  return protectedProcedure.input(schema).query(scopedResolver(inScope, service));
}

/** The same for a change of one job or batch. */
export function scopedMutation<TInput, TParsed, TResult>(
  schema: z.ZodType<TParsed, TInput>,
  inScope: ScopeCheck<TParsed>,
  service: (ctx: ServiceContext, input: TParsed) => Promise<TResult>,
) {
  return protectedProcedure.input(schema).mutation(scopedResolver(inScope, service));
}

function scopedResolver<TParsed, TResult>(
  inScope: ScopeCheck<TParsed>,
  service: (ctx: ServiceContext, input: TParsed) => Promise<TResult>,
) {
  return async function scopedProcedure(opts: {
    ctx: { deps: RouterDeps; principal: Principal };
    input: unknown;
  }): Promise<JsonPlain<TResult>> {
    // tRPC types a generic schema's output as a conditional type it cannot resolve here; the schema
    // given with this resolver has parsed it to TParsed.
    const input = opts.input as TParsed;
    await inScope(opts.ctx.deps.ctx, opts.ctx.principal, input);
    return jsonPlain(await service(opts.ctx.deps.ctx, input));
  };
}
