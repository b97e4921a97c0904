import type { Database } from "@imapferry/db";
import { type Kysely, sql } from "kysely";
import type { Vault } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import { endLinkTasks, queueLinkTasks } from "./link-queue.ts";
import { hashLinkToken, linkUrl, newLinkToken } from "./link-token.ts";

type Db = Kysely<Database>;

/** What issuing links needs from the server's configuration. */
export interface OwnerLinkConfig {
  /** IMAPFERRY_PUBLIC_URL: where the owner opens the link. */
  publicUrl: string;
  /** SMTP and NOTIFY_FROM are set: links can be emailed. */
  emailEnabled: boolean;
}

export interface IssuedLink {
  requestId: number;
  url: string;
  expiresAt: Date;
}

/** The sentence for an owner email while emails are off; `path` names the field. */
export function emailOffProblem(email: string, path: (string | number)[]): ImapferryError {
  const message = `Emails are off (SMTP is not configured), so the link cannot be emailed to ${email}. Set SMTP_URL and NOTIFY_FROM, or ask for the link back (returnLink) and pass it on yourself.`;
  return new ImapferryError("BAD_INPUT", message, [{ path, message }]);
}

/**
 * Ends the pending links of these jobs (the job got its password another way, was cancelled or
 * deleted, or gets a new link) and their queued emails. Returns how many ended.
 */
export async function endPendingLinks(
  trx: Db,
  jobIds: readonly number[],
  status: "replaced" | "cancelled",
): Promise<number> {
  if (jobIds.length === 0) return 0;
  const ended = await trx
    .updateTable("credential_requests")
    .set({ status, ended_at: sql<Date>`now()` })
    .where("job_id", "in", [...new Set(jobIds)])
    .where("status", "=", "pending")
    .returning("id")
    .execute();
  await endLinkTasks(
    trx,
    ended.map((r) => r.id),
  );
  return ended.length;
}

/**
 * Issues a new single-use link for a job awaiting its source password, inside the caller's
 * transaction; the job's previous pending link is replaced. Only the token's hash is stored; the URL
 * is returned for the caller to hand out (or not). With an owner email the link is emailed now and a
 * reminder queued at half its life.
 */
export async function issueLinkIn(
  trx: Db,
  vault: Vault,
  config: OwnerLinkConfig,
  link: { jobId: number; ownerEmail: string | null; expiresInHours: number },
): Promise<IssuedLink> {
  if (link.ownerEmail !== null && !config.emailEnabled) throw emailOffProblem(link.ownerEmail, ["email"]);
  await endPendingLinks(trx, [link.jobId], "replaced");
  const token = newLinkToken();
  const row = await trx
    .insertInto("credential_requests")
    .values({
      job_id: link.jobId,
      token_hash: hashLinkToken(token),
      owner_email: link.ownerEmail,
      // The database's clock, as every other deadline: the expiry check compares with now() there.
      expires_at: sql<Date>`now() + make_interval(hours => ${link.expiresInHours}::int)`,
    })
    .returning(["id", "created_at", "expires_at"])
    .executeTakeFirstOrThrow();
  const reminderAt = new Date((row.created_at.getTime() + row.expires_at.getTime()) / 2);
  await queueLinkTasks(trx, {
    requestId: row.id,
    sealedLink: vault.encrypt(token),
    emailed: link.ownerEmail !== null,
    reminderAt,
    expiresAt: row.expires_at,
  });
  return { requestId: row.id, url: linkUrl(config.publicUrl, token), expiresAt: row.expires_at };
}
