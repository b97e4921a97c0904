import type { JobHelpers, TaskList } from "graphile-worker";
import { sql } from "kysely";
import type { Transporter } from "nodemailer";
import { z } from "zod";
import { errorMessage } from "../../errors.ts";
import { notifyJobsChanged } from "../jobs/job-events.ts";
import { describeSmtpServer, isSmtpConfigured } from "../notifications/config.ts";
import { redactSecrets } from "../notifications/content.ts";
import { smtpConfigSchema } from "../notifications/schemas.ts";
import { createMailTransport, smtpSecrets } from "../notifications/send.ts";
import type { NotificationTaskDeps } from "../notifications/tasks.ts";
import { renderLinkEmail } from "./link-email.ts";
import { CREDENTIAL_LINK_TASKS, endLinkTasks } from "./link-queue.ts";
import { linkUrl } from "./link-token.ts";

const emailPayload = z.object({
  requestId: z.number().int().positive(),
  sealedLink: z.string().min(1),
  reminder: z.boolean(),
});
const expirePayload = z.object({ requestId: z.number().int().positive() });

/**
 * The credential links' tasks, run by the notification runner beside its own (same SMTP settings, same
 * transport settings): `credential_link_email` sends a link or its reminder, retried with backoff while
 * the SMTP server does not take it; `credential_link_expire` marks a link expired at its expiry.
 */
export function credentialLinkTasks(deps: NotificationTaskDeps): TaskList {
  const { ctx } = deps;
  const smtp = isSmtpConfigured(deps.smtp) ? smtpConfigSchema.safeParse(deps.smtp) : null;
  const extraSecrets = smtp?.success ? smtpSecrets(smtp.data) : [];
  let transport: Transporter | null = null;

  async function sendLinkEmail(payload: unknown, helpers: JobHelpers): Promise<void> {
    const parsed = emailPayload.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(
        `${CREDENTIAL_LINK_TASKS.email}: payload must be { requestId, sealedLink, reminder }`,
      );
      return;
    }
    const { requestId, reminder } = parsed.data;
    const row = await ctx.db
      .selectFrom("credential_requests as r")
      .innerJoin("jobs", "jobs.id", "r.job_id")
      .innerJoin("servers", "servers.id", "jobs.source_server_id")
      .select([
        "r.job_id",
        "r.status",
        "r.owner_email",
        "r.expires_at",
        "jobs.source_email",
        "servers.name as server_name",
        sql<boolean>`r.expires_at <= now()`.as("expired"),
      ])
      .where("r.id", "=", requestId)
      .executeTakeFirst();
    // Used, replaced or expired meanwhile: nobody needs this email any more.
    if (row?.status !== "pending" || row.expired || row.owner_email === null) return;
    if (!smtp?.success || !deps.from) {
      await ctx.db
        .updateTable("credential_requests")
        .set({ email_error: "Emails are off: SMTP is not configured on the worker that sends them." })
        .where("id", "=", requestId)
        .execute();
      return;
    }
    const email = renderLinkEmail({
      login: row.source_email,
      serverName: row.server_name,
      url: linkUrl(deps.publicUrl, ctx.vault.decrypt(parsed.data.sealedLink)),
      expiresAt: row.expires_at,
      reminder,
    });
    transport ??= createMailTransport(smtp.data);
    try {
      await transport.sendMail({
        from: deps.from,
        to: row.owner_email,
        subject: email.subject,
        text: email.text,
        headers: { "X-Imapferry-Notification": `credential-link:${requestId}${reminder ? ":reminder" : ""}` },
      });
    } catch (e: unknown) {
      const sentence = `The SMTP server ${describeSmtpServer(smtp.data)} did not take the email: ${redactSecrets(errorMessage(e), extraSecrets)}`;
      await ctx.db
        .updateTable("credential_requests")
        .set({ email_error: sentence })
        .where("id", "=", requestId)
        .execute();
      ctx.log.warn("credential link email not sent", { requestId, reminder, error: sentence });
      throw new Error(sentence);
    }
    await ctx.db
      .updateTable("credential_requests")
      .set(
        reminder
          ? {
              reminders_sent: sql<number>`reminders_sent + 1`,
              last_reminder_at: sql<Date>`now()`,
              email_error: null,
            }
          : { emailed_at: sql<Date>`now()`, email_error: null },
      )
      .where("id", "=", requestId)
      .execute();
    // The job's page shows when the link went out (and how many reminders): tell it, as for any change.
    await notifyJobsChanged(ctx.db, [row.job_id]);
    ctx.log.info("credential link emailed", { requestId, reminder });
  }

  async function expireLink(payload: unknown, helpers: JobHelpers): Promise<void> {
    const parsed = expirePayload.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(`${CREDENTIAL_LINK_TASKS.expire}: payload must be { requestId }`);
      return;
    }
    await ctx.db.transaction().execute(async function markExpired(trx) {
      const expired = await trx
        .updateTable("credential_requests")
        .set({ status: "expired", ended_at: sql<Date>`now()` })
        .where("id", "=", parsed.data.requestId)
        .where("status", "=", "pending")
        .where("expires_at", "<=", sql<Date>`now()`)
        .returning(["id", "job_id"])
        .executeTakeFirst();
      if (!expired) return;
      await endLinkTasks(trx, [expired.id]);
      // The job stays awaiting its password; its page now shows "link expired" and offers a new one.
      await notifyJobsChanged(trx, [expired.job_id]);
    });
  }

  return {
    [CREDENTIAL_LINK_TASKS.email]: sendLinkEmail,
    [CREDENTIAL_LINK_TASKS.expire]: expireLink,
  };
}
