import { createHash } from "node:crypto";
import { sql } from "kysely";
import type { Transporter } from "nodemailer";
import nodemailer from "nodemailer";
import type { ServiceContext } from "../../context.ts";
import { errorMessage } from "../../errors.ts";
import { describeSmtpServer } from "./config.ts";
import { buildBatchEmail, buildJobEmail, type EmailContext, redactSecrets } from "./content.ts";
import type { SmtpConfig } from "./schemas.ts";

/**
 * A nodemailer transport with short timeouts: a send holds a worker slot, and a hung SMTP server must
 * turn into a failed attempt (retried later), not a stuck one.
 */
export function createMailTransport(smtp: SmtpConfig): Transporter {
  return nodemailer.createTransport({
    ...(smtp.url ? { url: smtp.url } : {}),
    ...(smtp.host ? { host: smtp.host } : {}),
    ...(smtp.port ? { port: smtp.port } : {}),
    ...(smtp.secure !== undefined ? { secure: smtp.secure } : {}),
    ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? "" } } : {}),
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
    dnsTimeout: 15_000,
  });
}

/** Credentials of the SMTP configuration, to be kept out of emails and error messages. */
export function smtpSecrets(smtp: SmtpConfig): string[] {
  const out: string[] = [];
  if (smtp.password) out.push(smtp.password);
  if (smtp.url) {
    try {
      const url = new URL(smtp.url);
      if (url.password) {
        out.push(url.password);
        out.push(decodeURIComponent(url.password));
      }
    } catch {
      // Unparseable: nodemailer will refuse it and we report only the host part.
    }
  }
  return out;
}

export interface SendEnv extends EmailContext {
  ctx: ServiceContext;
  smtp: SmtpConfig;
  from: string;
  transport: Transporter;
}

export interface SendAttempt {
  /** 1 on the first attempt (graphile-worker's job.attempts during the run). */
  attempt: number;
  maxAttempts: number;
}

/** The address part of `Name <addr@domain>`, for the Message-ID's right-hand side. */
function fromDomain(from: string): string {
  const match = /@([^\s>]+)/.exec(from);
  return match?.[1] ?? "imapferry.invalid";
}

/**
 * Sends one recorded notification.
 *
 * Delivery is at-least-once: the row is marked sent right after the SMTP server accepted the message.
 * If the process dies in between (after the server's 250, before our update commits), the retry sends
 * again. We prefer that to at-most-once (marking first), which would silently lose the email when SMTP
 * is down at that moment, the case this task exists for. The Message-ID is derived from the
 * notification, so the rare duplicate carries the same Message-ID and mail systems that de-duplicate on
 * it show one message.
 *
 * Throws (so graphile-worker retries with backoff) while the SMTP server does not accept the message;
 * the error sentence names the server and never a credential.
 */
export async function sendNotification(
  env: SendEnv,
  notificationId: number,
  attempt: SendAttempt,
): Promise<"sent" | "skipped"> {
  const row = await env.ctx.db
    .selectFrom("notifications")
    .selectAll()
    .where("id", "=", notificationId)
    .executeTakeFirst();
  if (row?.status !== "pending") return "skipped";
  const email =
    row.kind === "job"
      ? row.job_id !== null
        ? await buildJobEmail(env, row.job_id)
        : null
      : row.batch_id !== null
        ? await buildBatchEmail(env, row.batch_id, { cutover: row.kind === "cutover" })
        : null;
  if (!email || row.recipients.length === 0) {
    await env.ctx.db
      .updateTable("notifications")
      .set({ status: "suppressed", suppressed_reason: email ? "no recipients" : "what it was about is gone" })
      .where("id", "=", row.id)
      .where("status", "=", "pending")
      .execute();
    return "skipped";
  }
  await env.ctx.db
    .updateTable("notifications")
    .set({ attempts: sql<number>`attempts + 1` })
    .where("id", "=", row.id)
    .execute();
  const stableId = createHash("sha256").update(row.dedupe_key).digest("hex").slice(0, 24);
  try {
    await env.transport.sendMail({
      from: env.from,
      to: row.recipients,
      subject: email.subject,
      text: email.text,
      messageId: `<notification-${row.id}.${stableId}@${fromDomain(env.from)}>`,
      headers: { "X-Imapferry-Notification": row.dedupe_key },
    });
  } catch (e: unknown) {
    const detail = redactSecrets(errorMessage(e), [...env.extraSecrets]);
    const sentence = `The SMTP server ${describeSmtpServer(env.smtp)} did not take the email: ${detail}`;
    const final = attempt.attempt >= attempt.maxAttempts;
    await env.ctx.db
      .updateTable("notifications")
      .set({ last_error: sentence, ...(final ? { status: "failed" as const } : {}) })
      .where("id", "=", row.id)
      .where("status", "=", "pending")
      .execute();
    env.ctx.log.warn("notification not sent", {
      notificationId: row.id,
      attempt: attempt.attempt,
      maxAttempts: attempt.maxAttempts,
      error: sentence,
    });
    throw new Error(sentence);
  }
  await env.ctx.db
    .updateTable("notifications")
    .set({ status: "sent", sent_at: sql<Date>`now()`, last_error: null })
    .where("id", "=", row.id)
    .where("status", "=", "pending")
    .execute();
  env.ctx.log.info("notification sent", {
    notificationId: row.id,
    kind: row.kind,
    recipients: row.recipients.length,
  });
  return "sent";
}
