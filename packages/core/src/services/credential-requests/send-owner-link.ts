import type { ServiceContext } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import { notifyJobsChanged } from "../jobs/job-events.ts";
import { parseInput } from "../validation.ts";
import { type IssuedLink, issueLinkIn, type OwnerLinkConfig } from "./issue-link.ts";
import { sendOwnerLinkInputSchema } from "./schemas.ts";

/**
 * "Send a new link" / "Copy link": a fresh link for a job still awaiting its source password, emailed
 * to the owner (the address given, else the one the last link went to) and/or returned. The previous
 * link stops working at once. CONFLICT for a job that awaits nothing.
 */
export async function sendOwnerLink(
  ctx: Pick<ServiceContext, "db" | "vault">,
  config: OwnerLinkConfig,
  input: unknown,
): Promise<{ jobId: number; link: IssuedLink; returnLink: boolean }> {
  const v = parseInput(sendOwnerLinkInputSchema, input, "new link");
  const link = await ctx.db.transaction().execute(async (trx) => {
    const job = await trx
      .selectFrom("jobs")
      .select(["id", "status"])
      .where("id", "=", v.id)
      .where("deleted_at", "is", null)
      .forUpdate()
      .executeTakeFirst();
    if (!job) throw new ImapferryError("NOT_FOUND", `There is no job ${v.id}.`);
    if (job.status !== "awaiting_credentials") {
      throw new ImapferryError(
        "CONFLICT",
        `Job ${v.id} is ${job.status}, not awaiting its source password: it needs no link.`,
      );
    }
    let ownerEmail: string | null = null;
    if (v.sendEmail) {
      const last = await trx
        .selectFrom("credential_requests")
        .select("owner_email")
        .where("job_id", "=", v.id)
        .where("owner_email", "is not", null)
        .orderBy("id", "desc")
        .limit(1)
        .executeTakeFirst();
      ownerEmail = v.email ?? last?.owner_email ?? null;
      if (ownerEmail === null) {
        const message = `No owner email is known for job ${v.id}: give the owner's email, or only copy the link.`;
        throw new ImapferryError("BAD_INPUT", message, [{ path: ["email"], message }]);
      }
    }
    const issued = await issueLinkIn(trx, ctx.vault, config, {
      jobId: v.id,
      ownerEmail,
      expiresInHours: v.expiresInHours,
    });
    await notifyJobsChanged(trx, [v.id]);
    return issued;
  });
  return { jobId: v.id, link, returnLink: v.returnLink };
}
