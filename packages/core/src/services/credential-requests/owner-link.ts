import type { CredentialRequestStatus } from "@imapferry/db";
import { sql } from "kysely";
import type { ServiceContext } from "../../context.ts";
import { testConnection } from "../../engines/connection-test.ts";
import { errorMessage } from "../../errors.ts";
import { enqueueJobs } from "../../queue/queue-entries.ts";
import { recordAuditEvent } from "../audit/audit-log.ts";
import type { LoginRateLimiter } from "../auth/login-rate-limiter.ts";
import { notifyJobsChanged } from "../jobs/job-events.ts";
import { passwordSchema } from "../validation.ts";
import { endLinkTasks } from "./link-queue.ts";
import { hashLinkToken, looksLikeLinkToken } from "./link-token.ts";
import { effectiveStatus } from "./request-view.ts";

/**
 * What the owner's page shows for a link: the form (only the mailbox's login and its server's name,
 * nothing else of the installation), or why the link no longer works.
 */
export type OwnerLinkState =
  | { state: "open"; login: string; serverName: string; expiresAt: Date }
  | { state: Exclude<CredentialRequestStatus, "pending"> | "unknown" };

interface FoundLink {
  id: number;
  jobId: number;
  tenant: string | null;
  status: CredentialRequestStatus;
  login: string;
  serverId: number;
  serverName: string;
  expiresAt: Date;
}

async function findLink(ctx: Pick<ServiceContext, "db">, token: string): Promise<FoundLink | null> {
  if (!looksLikeLinkToken(token)) return null;
  const row = await ctx.db
    .selectFrom("credential_requests as r")
    .innerJoin("jobs", "jobs.id", "r.job_id")
    .innerJoin("servers", "servers.id", "jobs.source_server_id")
    .select([
      "r.id",
      "r.status",
      "r.expires_at",
      "jobs.id as job_id",
      "jobs.tenant",
      "jobs.source_email",
      "jobs.source_server_id",
      "jobs.deleted_at",
      "servers.name as server_name",
      sql<Date>`now()`.as("db_now"),
    ])
    .where("r.token_hash", "=", hashLinkToken(token))
    .executeTakeFirst();
  if (!row) return null;
  const status = row.deleted_at !== null && row.status === "pending" ? "cancelled" : row.status;
  return {
    id: row.id,
    jobId: row.job_id,
    tenant: row.tenant,
    status: effectiveStatus({ status, expires_at: row.expires_at }, row.db_now),
    login: row.source_email,
    serverId: row.source_server_id,
    serverName: row.server_name,
    expiresAt: row.expires_at,
  };
}

/** The page for a link, looked up by its token's hash. */
export async function readOwnerLink(ctx: Pick<ServiceContext, "db">, token: string): Promise<OwnerLinkState> {
  const link = await findLink(ctx, token);
  if (!link) return { state: "unknown" };
  if (link.status !== "pending") return { state: link.status };
  return { state: "open", login: link.login, serverName: link.serverName, expiresAt: link.expiresAt };
}

export type OwnerPasswordOutcome =
  /** The password logged in; the job is queued and the link is spent. */
  | { result: "accepted"; jobId: number }
  /** Nothing changed; the sentence says why and the form is shown again (the link still works). */
  | { result: "refused"; sentence: string }
  /** The link no longer works (used, expired …): the page says so. */
  | { result: "closed"; page: OwnerLinkState };

export interface OwnerPasswordAttempt {
  token: string;
  password: string;
  /** The client's address, for the rate limit and the audit log. */
  ip: string;
  limiter: LoginRateLimiter;
}

/** What the owner reads when the server refused the password; never the server's own words. */
function refusedSentence(login: string): string {
  return `That password was not accepted for ${login}. Check it (capital letters count) and try again.`;
}

const UNREACHABLE_SENTENCE =
  "The old mail server could not be reached just now, so the password could not be checked. Try again in a few minutes; if it keeps happening, tell whoever sent you this link.";

/**
 * The owner enters the source password: it is tested with a real login (as the server test does) and,
 * only if the server accepts it, stored encrypted; the job is queued and the link spent, in one
 * transaction that also rechecks the link is still open (two tabs cannot both use it). Attempts are
 * rate-limited per address and per link. The password never reaches a log, an audit entry or a sentence.
 */
export async function submitOwnerPassword(
  ctx: ServiceContext,
  attempt: OwnerPasswordAttempt,
): Promise<OwnerPasswordOutcome> {
  const link = await findLink(ctx, attempt.token);
  if (!link) return { result: "closed", page: { state: "unknown" } };
  if (link.status !== "pending") return { result: "closed", page: { state: link.status } };
  const parsed = passwordSchema.safeParse(attempt.password);
  if (!parsed.success) {
    const sentence =
      attempt.password === ""
        ? "Enter the password of your old mailbox."
        : (parsed.error.issues[0]?.message ?? "This is not a valid password.");
    return { result: "refused", sentence };
  }
  // Counted before the login is tried, so parallel guesses cannot all slip under the limit.
  let counted: ReturnType<LoginRateLimiter["beginAttempt"]>;
  try {
    counted = attempt.limiter.beginAttempt(attempt.ip, `credential-link:${link.id}`);
  } catch (e: unknown) {
    const seconds = /(\d+) second/.exec(e instanceof Error ? e.message : "")?.[1] ?? "a few";
    return { result: "refused", sentence: `Too many tries. Wait ${seconds} seconds, then try again.` };
  }
  const server = await ctx.db
    .selectFrom("servers")
    .select(["host", "port", "security", "accept_self_signed"])
    .where("id", "=", link.serverId)
    .executeTakeFirstOrThrow();
  const test = await testConnection(
    {
      host: server.host,
      port: server.port,
      security: server.security,
      acceptSelfSigned: server.accept_self_signed,
    },
    { user: link.login, password: parsed.data },
    ctx.denyHosts ? { denyHosts: ctx.denyHosts } : {},
  );
  // Logged, not answered, when it fails: by then the owner's attempt has happened (as in the API).
  const audit = (outcome: string, reason?: string) =>
    recordAuditEvent(ctx, {
      caller: null,
      ip: attempt.ip,
      action: "credentialLinks.use",
      input: { id: link.jobId, requestId: link.id, tenant: link.tenant, ...(reason ? { reason } : {}) },
      outcome,
    }).catch((e: unknown) => {
      ctx.log.error("could not record a credential link's use in the audit log", {
        jobId: link.jobId,
        error: errorMessage(e),
      });
    });
  if (!test.ok) {
    counted.failed();
    await ctx.db
      .updateTable("credential_requests")
      .set({ failed_attempts: sql<number>`failed_attempts + 1` })
      .where("id", "=", link.id)
      .execute();
    await audit(test.category === "auth" ? "UNAUTHORIZED" : "UNAVAILABLE", test.category);
    return {
      result: "refused",
      sentence: test.category === "auth" ? refusedSentence(link.login) : UNREACHABLE_SENTENCE,
    };
  }
  counted.succeeded();
  const secret = ctx.vault.encrypt(parsed.data);
  const used = await ctx.db.transaction().execute(async (trx) => {
    const request = await trx
      .selectFrom("credential_requests")
      .select(["status", "expires_at", sql<Date>`now()`.as("db_now")])
      .where("id", "=", link.id)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const status = effectiveStatus(request, request.db_now);
    if (status !== "pending") return status;
    const job = await trx
      .updateTable("jobs")
      .set({ source_secret: secret, source_oauth2: null, status: "queued", error_message: null })
      .where("id", "=", link.jobId)
      .where("status", "=", "awaiting_credentials")
      .where("deleted_at", "is", null)
      .returning("id")
      .executeTakeFirst();
    if (!job) return "cancelled" as const;
    await trx
      .updateTable("credential_requests")
      .set({ status: "used", used_at: sql<Date>`now()`, ended_at: sql<Date>`now()` })
      .where("id", "=", link.id)
      .execute();
    await endLinkTasks(trx, [link.id]);
    await enqueueJobs(trx, { jobIds: [link.jobId] });
    await notifyJobsChanged(trx, [link.jobId]);
    return "used-now" as const;
  });
  if (used !== "used-now") return { result: "closed", page: { state: used } };
  await audit("ok");
  ctx.log.info("credential link used: job queued", { jobId: link.jobId, requestId: link.id });
  return { result: "accepted", jobId: link.jobId };
}
