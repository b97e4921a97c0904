import {
  assertBatchInScope,
  assertJobsInScope,
  bulkJobs,
  bulkJobsInputSchema,
  cancelJob,
  createJob,
  createJobInputSchema,
  deleteJob,
  deleteJobInputSchema,
  editJob,
  editJobInputSchema,
  getJob,
  getJobBudgetUsage,
  getJobReport,
  idSchema,
  jobIdInputSchema,
  listJobs,
  listJobsInputSchema,
  listPreviousRuns,
  reportInputSchema,
  rerunJob,
  rerunJobInputSchema,
  resumeJobNow,
  scopedTenant,
} from "@imapferry/core";
import { z } from "zod";
import { watchJobEvents } from "../live/job-events.ts";
import { afterScopeCheck, onlyTenantJobEvents } from "../live/tenant-streams.ts";
import { markStreamedJobs } from "../live/watch-recorder.ts";
import { protectedProcedure, protectedRawInputProcedure, router } from "../trpc/init.ts";
import { jsonPlain } from "../trpc/json-plain.ts";
import { jobPlanRouter } from "./job-plans.ts";
import { auditLinkIssued, sendOwnerLinkProcedure } from "./owner-links.ts";
import { jobIdInScope, scopedMutation, scopedQuery } from "./scoped-procedures.ts";

export const jobsRouter = router({
  plan: jobPlanRouter,
  /**
   * Newest first, paged by `cursor`; filters by status, batch, tenant and free text. In a batch, only each
   * mailbox pair's latest run unless `includeSuperseded`. A tenant's token lists its tenant's jobs only.
   */
  list: protectedProcedure.input(listJobsInputSchema.optional()).query(async function listJobsProcedure({
    ctx,
    input,
  }) {
    const tenant = scopedTenant(ctx.principal, input?.tenant);
    const page = await listJobs(ctx.deps.ctx, { ...input, ...(tenant === undefined ? {} : { tenant }) });
    // The person sees this page (and the batch it is filtered to), not every job: a client polling the
    // list must not silence the emails of jobs it never shows.
    ctx.deps.watches.mark({
      jobIds: page.items.map((job) => job.id),
      ...(input?.batchId === undefined ? {} : { batchIds: [input.batchId] }),
    });
    return jsonPlain(page);
  }),

  get: protectedProcedure.input(jobIdInputSchema).query(async function getJobProcedure({ ctx, input }) {
    await assertJobsInScope(ctx.deps.ctx, ctx.principal, [input.id]);
    const job = await getJob(ctx.deps.ctx, input.id);
    ctx.deps.watches.mark({ jobIds: [job.id] });
    return jsonPlain(job);
  }),

  /** The runs this job replaced (earlier runs of its mailbox pair in the batch, the jobs it reran), newest first. */
  previousRuns: scopedQuery(jobIdInputSchema, jobIdInScope, listPreviousRuns),

  /**
   * The job's source and destination accounts' byte usage in the current budget window, against their
   * servers' daily budgets (null: none), with when the window resets.
   */
  budgetUsage: scopedQuery(jobIdInputSchema, jobIdInScope, function jobBudgetUsage(ctx, input) {
    return getJobBudgetUsage(ctx, input.id);
  }),

  /** What the last run did and what the check after it found, per folder. */
  report: scopedQuery(reportInputSchema, jobIdInScope, getJobReport),

  /**
   * Queues one migration. Passwords are encrypted at once and never returned. A tenant's token creates
   * it in its tenant (and only into its tenant's batches).
   */
  create: protectedProcedure.input(createJobInputSchema).mutation(async function createJobProcedure({
    ctx,
    input,
  }) {
    const tenant = scopedTenant(ctx.principal, input.tenant);
    if (input.batchId !== undefined) await assertBatchInScope(ctx.deps.ctx, ctx.principal, input.batchId);
    const job = await createJob(
      ctx.deps.ctx,
      { ...input, ...(tenant === undefined ? {} : { tenant }) },
      ctx.deps.ownerLinks,
    );
    if (input.askOwner)
      await auditLinkIssued(ctx.deps.ctx, ctx.principal, ctx.ip, job, input.askOwner.returnLink);
    return jsonPlain(job);
  }),

  /**
   * A new link asking the mailbox's owner for the source password of a job awaiting it, emailed
   * (`sendEmail`, to `email` or the last link's address) and/or returned once (`returnLink`).
   */
  sendOwnerLink: sendOwnerLinkProcedure,

  /**
   * Edits a job that is not running (CONFLICT while it runs); only the fields sent change. A stored
   * password is only ever sent to the server and login it was entered for: changing a side's server or
   * login needs that side's password in the same call (BAD_REQUEST naming `sourcePassword` /
   * `destPassword` otherwise).
   */
  update: protectedRawInputProcedure.input(editJobInputSchema).mutation(async function updateJobProcedure({
    ctx,
    input,
  }) {
    await assertJobsInScope(ctx.deps.ctx, ctx.principal, [input.id]);
    return jsonPlain(await editJob(ctx.deps.ctx, ctx.rawInput));
  }),

  cancel: scopedMutation(jobIdInputSchema, jobIdInScope, cancelJob),

  /** A waiting job (it stopped on a dropped connection or throttling) resumes now, not at resumeAt. */
  resume: scopedMutation(jobIdInputSchema, jobIdInScope, resumeJobNow),

  delete: protectedProcedure.input(deleteJobInputSchema).mutation(async function deleteJobProcedure({
    ctx,
    input,
  }) {
    await assertJobsInScope(ctx.deps.ctx, ctx.principal, [input.id]);
    await deleteJob(ctx.deps.ctx, input);
    return { id: input.id, deleted: true as const };
  }),

  /**
   * A new job copying this one (credentials included, still encrypted, for the same servers and logins
   * they were entered for); `dryRun` overrides the original's.
   */
  rerun: scopedMutation(rerunJobInputSchema, jobIdInScope, rerunJob),

  /** cancel, delete or rerun many jobs (by ids or a whole batch) at once; one outcome per job. */
  bulk: protectedProcedure.input(bulkJobsInputSchema).mutation(async function bulkJobsProcedure({
    ctx,
    input,
  }) {
    if (input.ids) await assertJobsInScope(ctx.deps.ctx, ctx.principal, input.ids);
    if (input.batchId !== undefined) await assertBatchInScope(ctx.deps.ctx, ctx.principal, input.batchId);
    return jsonPlain(await bulkJobs(ctx.deps.ctx, input));
  }),

  /**
   * Live status and progress changes, for every job, one batch, or some jobs. Marks what it watches:
   * the jobs or the batch asked for; without a filter, the jobs it reports (see markStreamedJobs).
   */
  events: protectedProcedure
    .input(
      z
        .object({
          batchId: idSchema.optional(),
          jobIds: z.array(idSchema).min(1).max(10_000).optional(),
        })
        .optional(),
    )
    .subscription(function jobEvents({ ctx, input, signal }) {
      const { principal } = ctx;
      const batchId = input?.batchId;
      const jobIds = input?.jobIds;
      const all = watchJobEvents(ctx.deps, { batchId, jobIds, signal });
      // A tenant's token asks only for its jobs and batches, and hears only its tenant's jobs.
      const events =
        principal.tenant === null
          ? all
          : afterScopeCheck(
              async function checkStreamScope() {
                if (batchId !== undefined) await assertBatchInScope(ctx.deps.ctx, principal, batchId);
                if (jobIds) await assertJobsInScope(ctx.deps.ctx, principal, jobIds);
              },
              onlyTenantJobEvents(ctx.deps, principal.tenant, all),
            );
      const unfiltered = batchId === undefined && jobIds === undefined;
      return unfiltered ? markStreamedJobs(ctx.deps.watches, events) : events;
    }),
});
