import type { ServiceContext } from "../../context.ts";
import {
  MAX_LISTED_FAILURES,
  type RenderedEmail,
  renderBatchEmail,
  renderJobEmail,
  summarizeJobStats,
} from "./render.ts";

/** Replaces every occurrence of each secret (4+ characters) with a marker. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    out = out.split(secret).join("[redacted]");
  }
  return out;
}

/**
 * The passwords of the given jobs, decrypted only to be sure none of them is ever quoted in an email:
 * the error sentence comes from engine output, which we do not control. Values that do not decrypt
 * (a retired key) are skipped: they cannot be in this run's output either.
 */
function jobPasswords(
  ctx: Pick<ServiceContext, "vault">,
  jobs: { source_secret: string | null; dest_secret: string | null }[],
): string[] {
  const out: string[] = [];
  for (const job of jobs) {
    for (const stored of [job.source_secret, job.dest_secret]) {
      // No password of its own: the job logged in with admin credentials, redacted with the servers'.
      if (stored === null) continue;
      try {
        out.push(ctx.vault.decrypt(stored));
      } catch {
        // Not decryptable here: nothing to redact.
      }
    }
  }
  return out;
}

/** Every server's admin password, to redact like the jobs' own (a job without one logged in with these). */
async function adminPasswords(ctx: Pick<ServiceContext, "db" | "vault">): Promise<string[]> {
  const rows = await ctx.db
    .selectFrom("servers")
    .select("admin_secret")
    .where("admin_secret", "is not", null)
    .execute();
  const out: string[] = [];
  for (const row of rows) {
    try {
      if (row.admin_secret !== null) out.push(ctx.vault.decrypt(row.admin_secret));
    } catch {
      // Not decryptable here: nothing to redact.
    }
  }
  return out;
}

export interface EmailContext {
  ctx: Pick<ServiceContext, "db" | "vault">;
  publicUrl: string;
  /** Secrets of our own (the SMTP password) that must never appear either. */
  extraSecrets: readonly string[];
}

function finish(email: RenderedEmail, secrets: readonly string[]): RenderedEmail {
  return { subject: redactSecrets(email.subject, secrets), text: redactSecrets(email.text, secrets) };
}

/** The email for one ended job, or null when the job is gone or did not end done/failed. */
export async function buildJobEmail(env: EmailContext, jobId: number): Promise<RenderedEmail | null> {
  const job = await env.ctx.db
    .selectFrom("jobs")
    .leftJoin("batches", "batches.id", "jobs.batch_id")
    .select([
      "jobs.id",
      "jobs.name",
      "jobs.status",
      "jobs.source_email",
      "jobs.dest_email",
      "jobs.source_secret",
      "jobs.dest_secret",
      "jobs.dry_run",
      "jobs.stats",
      "jobs.progress",
      "jobs.started_at",
      "jobs.finished_at",
      "jobs.error_message",
      "batches.tag as batch_tag",
    ])
    .where("jobs.id", "=", jobId)
    .executeTakeFirst();
  if (!job || (job.status !== "done" && job.status !== "incomplete" && job.status !== "failed")) return null;
  const email = renderJobEmail({
    jobId: job.id,
    name: job.name,
    status: job.status,
    sourceEmail: job.source_email,
    destEmail: job.dest_email,
    dryRun: job.dry_run,
    batchTag: job.batch_tag,
    stats: summarizeJobStats(job),
    errorMessage: job.error_message,
    url: `${env.publicUrl}/jobs/${job.id}`,
  });
  return finish(email, [
    ...env.extraSecrets,
    ...jobPasswords(env.ctx, [job]),
    ...(await adminPasswords(env.ctx)),
  ]);
}

/** The summary email of a batch, or null when the batch is gone. */
export async function buildBatchEmail(
  env: EmailContext,
  batchId: number,
  /** The summary of a plan's cutover: lists every mailbox whose final run did not end done. */
  options: { cutover?: boolean } = {},
): Promise<RenderedEmail | null> {
  const batch = await env.ctx.db
    .selectFrom("batches")
    .select(["id", "tag"])
    .where("id", "=", batchId)
    .executeTakeFirst();
  if (!batch) return null;
  const countRows = await env.ctx.db
    .selectFrom("jobs")
    .select(["status", (eb) => eb.fn.countAll<string>().as("n")])
    .where("batch_id", "=", batchId)
    .where("deleted_at", "is", null)
    .where("superseded_by", "is", null)
    .groupBy("status")
    .execute();
  const counts: Record<string, number> = {};
  for (const row of countRows) counts[row.status] = Number(row.n);
  const failed = await env.ctx.db
    .selectFrom("jobs")
    .select(["id", "source_email", "dest_email", "error_message", "source_secret", "dest_secret"])
    .where("batch_id", "=", batchId)
    .where("deleted_at", "is", null)
    .where("superseded_by", "is", null)
    .where("status", options.cutover ? "<>" : "=", options.cutover ? "done" : "failed")
    .orderBy("id")
    .limit(MAX_LISTED_FAILURES)
    .execute();
  const plan = options.cutover
    ? await env.ctx.db
        .selectFrom("batch_plans")
        .select(["complete_count", "attention_count"])
        .where("batch_id", "=", batchId)
        .executeTakeFirst()
    : undefined;
  const email = renderBatchEmail({
    batchId: batch.id,
    tag: batch.tag,
    counts,
    failed: failed.map((f) => ({
      jobId: f.id,
      sourceEmail: f.source_email,
      destEmail: f.dest_email,
      errorMessage: f.error_message,
    })),
    // The panel has no batch page: its jobs list filtered to the batch (jobs.tsx reads `batch`) is it.
    url: `${env.publicUrl}/jobs?batch=${batch.id}`,
    ...(plan
      ? { cutover: { complete: plan.complete_count ?? 0, attention: plan.attention_count ?? 0 } }
      : {}),
  });
  return finish(email, [
    ...env.extraSecrets,
    ...jobPasswords(env.ctx, failed),
    ...(await adminPasswords(env.ctx)),
  ]);
}
