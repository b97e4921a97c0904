import type { ImportResult, JobView, Principal, ServiceContext } from "@imapferry/core";
import {
  assertJobsInScope,
  errorMessage,
  getJob,
  recordAuditEvent,
  sendOwnerLink,
  sendOwnerLinkInputSchema,
  withLinkUrl,
} from "@imapferry/core";
import { protectedProcedure } from "../trpc/init.ts";
import { jsonPlain } from "../trpc/json-plain.ts";

/**
 * Records that a link was issued for a job (besides the change that issued it): who, from where, for
 * which owner address, until when, and whether its URL went back to the caller. Never the token.
 */
export async function auditLinkIssued(
  ctx: ServiceContext,
  caller: Principal,
  ip: string,
  job: JobView,
  returned: boolean,
): Promise<void> {
  const request = job.credentialRequest;
  if (!request) return;
  await recordAuditEvent(ctx, {
    caller,
    ip,
    action: "credentialLinks.issue",
    input: {
      id: job.id,
      requestId: request.id,
      tenant: job.tenant,
      ownerEmail: request.ownerEmail,
      expiresAt: request.expiresAt.toISOString(),
      returned,
    },
    outcome: "ok",
  }).catch((e: unknown) => {
    ctx.log.error("could not record an issued credential link in the audit log", {
      jobId: job.id,
      error: errorMessage(e),
    });
  });
}

/** One entry for an import's links (a file can hold thousands): the batch, how many, emailed or returned. */
export async function auditImportLinks(
  ctx: ServiceContext,
  caller: Principal,
  ip: string,
  imported: ImportResult,
): Promise<void> {
  await recordAuditEvent(ctx, {
    caller,
    ip,
    action: "credentialLinks.issue",
    input: {
      batchId: imported.batch.id,
      tenant: imported.batch.tenant,
      links: imported.ownerLinks.length,
      emailed: imported.ownerLinks.filter((l) => l.ownerEmail !== null).length,
      returned: imported.ownerLinks.some((l) => l.url !== null),
    },
    outcome: "ok",
  }).catch((e: unknown) => {
    ctx.log.error("could not record an import's credential links in the audit log", {
      batchId: imported.batch.id,
      error: errorMessage(e),
    });
  });
}

/**
 * jobs.sendOwnerLink: a new link for a job awaiting its source password ("Send a new link", "Copy
 * link"). The previous link stops working; with `returnLink` the answer's `credentialRequest.url` holds
 * the new one, this once.
 */
export const sendOwnerLinkProcedure = protectedProcedure
  .input(sendOwnerLinkInputSchema)
  .mutation(async function sendOwnerLinkProcedure({ ctx, input }) {
    await assertJobsInScope(ctx.deps.ctx, ctx.principal, [input.id]);
    const sent = await sendOwnerLink(ctx.deps.ctx, ctx.deps.ownerLinks, input);
    const job = await getJob(ctx.deps.ctx, sent.jobId);
    await auditLinkIssued(ctx.deps.ctx, ctx.principal, ctx.ip, job, sent.returnLink);
    return jsonPlain(withLinkUrl(job, sent.returnLink ? sent.link.url : null));
  });
