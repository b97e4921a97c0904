import type { AuditEventRow } from "@imapferry/db";
import type { ServiceContext } from "../../context.ts";
import type { Principal } from "../auth/sessions.ts";
import { parseInput } from "../validation.ts";
import { auditDetails } from "./redact.ts";
import { type ListAuditEventsInput, listAuditEventsInputSchema } from "./schemas.ts";

/** One change, or a refused attempt at one, as the audit log shows it. */
export interface AuditEvent {
  id: string;
  at: Date;
  /** Who: the user (null once deleted; `username` stays), how, and with which token. */
  userId: number | null;
  username: string | null;
  method: "session" | "token" | "anonymous";
  tokenId: number | null;
  tokenPrefix: string | null;
  callerTenant: string | null;
  /** From where: the client's address (through trusted proxies). */
  ip: string | null;
  /** What: the procedure, e.g. "jobs.cancel", and what it changed, where it names one thing. */
  action: string;
  targetType: string | null;
  targetId: number | null;
  tenant: string | null;
  /** "ok", or the code it was refused with. */
  outcome: string;
  /** The input, without secrets. */
  details: Record<string, unknown>;
}

export interface AuditEventInput {
  caller: (Principal & { tokenPrefix?: string | null }) | null;
  ip: string | null;
  action: string;
  /** The raw input of the change; secrets are removed here (redact.ts), never stored. */
  input: unknown;
  /** What the change returned, to find the id of what it created. */
  result?: unknown;
  outcome: string;
}

/** The kind of thing each group of procedures changes. */
const TARGET_TYPES: Record<string, string> = {
  jobs: "job",
  batches: "batch",
  servers: "server",
  tokens: "token",
  settings: "settings",
  auth: "user",
  credentialLinks: "job",
  webhooks: "webhook",
};

/** Appends one event. Never updates or deletes: the table refuses both (migration 0014). */
export async function recordAuditEvent(
  ctx: Pick<ServiceContext, "db">,
  event: AuditEventInput,
): Promise<void> {
  const details = auditDetails(event.input);
  const { caller } = event;
  const group = event.action.split(".")[0] ?? "";
  const tenant =
    caller?.tenant ?? (typeof details.tenant === "string" ? details.tenant : null) ?? tenantOf(event.result);
  await ctx.db
    .insertInto("audit_events")
    .values({
      // A login has no caller yet; once it succeeded, who logged in is the user it returned.
      user_id: caller?.userId ?? (event.action === "auth.login" ? targetIdOf({}, event.result) : null),
      username: caller?.username ?? (typeof details.username === "string" ? details.username : null),
      method: caller?.method ?? "anonymous",
      token_id: caller?.tokenId ?? null,
      token_prefix: caller?.tokenPrefix ?? null,
      caller_tenant: caller?.tenant ?? null,
      ip: event.ip,
      action: event.action,
      target_type: TARGET_TYPES[group] ?? null,
      target_id: targetIdOf(details, event.result),
      tenant,
      outcome: event.outcome,
      details: JSON.stringify(details),
    })
    .execute();
}

/** The id the change named (`id`), or else the id of what it created. */
function targetIdOf(details: Record<string, unknown>, result: unknown): number | null {
  if (typeof details.id === "number") return details.id;
  if (result !== null && typeof result === "object") {
    const r = result as {
      id?: unknown;
      batch?: { id?: unknown };
      apiToken?: { id?: unknown };
      webhook?: { id?: unknown };
    };
    for (const id of [r.id, r.batch?.id, r.apiToken?.id, r.webhook?.id])
      if (typeof id === "number") return id;
  }
  return null;
}

function tenantOf(result: unknown): string | null {
  if (result === null || typeof result !== "object") return null;
  const r = result as { tenant?: unknown; batch?: { tenant?: unknown } };
  const tenant = r.tenant ?? r.batch?.tenant;
  return typeof tenant === "string" ? tenant : null;
}

/** Newest first, filtered, paged by `cursor`. Who may read it is the caller's check (permissions.ts). */
export async function listAuditEvents(
  ctx: Pick<ServiceContext, "db">,
  input: ListAuditEventsInput,
): Promise<{ items: AuditEvent[]; nextCursor: string | null }> {
  const v = parseInput(listAuditEventsInputSchema, input, "audit log filter");
  let query = ctx.db.selectFrom("audit_events").selectAll();
  if (v.action !== undefined) {
    query = v.action.endsWith(".")
      ? query.where("action", "like", `${v.action.replace(/[\\%_]/g, "\\$&")}%`)
      : query.where("action", "=", v.action);
  }
  if (v.userId !== undefined) query = query.where("user_id", "=", v.userId);
  if (v.tokenId !== undefined) query = query.where("token_id", "=", v.tokenId);
  if (v.tenant !== undefined) query = query.where("tenant", "=", v.tenant);
  if (v.outcome !== undefined) query = query.where("outcome", "=", v.outcome);
  if (v.since !== undefined) query = query.where("at", ">=", new Date(v.since));
  if (v.until !== undefined) query = query.where("at", "<", new Date(v.until));
  if (v.cursor !== undefined) query = query.where("id", "<", v.cursor);
  const rows = await query
    .orderBy("id", "desc")
    .limit(v.limit + 1)
    .execute();
  const page = rows.slice(0, v.limit);
  return {
    items: page.map(toAuditEvent),
    nextCursor: rows.length > v.limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}

function toAuditEvent(row: AuditEventRow): AuditEvent {
  return {
    id: row.id,
    at: row.at,
    userId: row.user_id,
    username: row.username,
    method: row.method,
    tokenId: row.token_id,
    tokenPrefix: row.token_prefix,
    callerTenant: row.caller_tenant,
    ip: row.ip,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    tenant: row.tenant,
    outcome: row.outcome,
    details: row.details,
  };
}
