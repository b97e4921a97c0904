import type { WebhookEndpointRow } from "@imapferry/db";
import { sql } from "kysely";
import type { ServiceContext } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import { DENIED_HOST_SENTENCE } from "../../net/deny-hosts.ts";
import { assertAllowed } from "../auth/permissions.ts";
import type { Principal } from "../auth/sessions.ts";
import { scopedTenant } from "../auth/tenant-scope.ts";
import { parseInput } from "../validation.ts";
import { recordWebhookEvent } from "./events.ts";
import { queueWebhookDelivery } from "./queue.ts";
import {
  type CreateWebhookInput,
  createWebhookInputSchema,
  type ListWebhookDeliveriesInput,
  listWebhookDeliveriesInputSchema,
  type RedeliverWebhookInput,
  redeliverWebhookInputSchema,
  type UpdateWebhookInput,
  updateWebhookInputSchema,
  type WebhookEventType,
} from "./schemas.ts";
import { generateWebhookSecret } from "./signature.ts";

type Ctx = Pick<ServiceContext, "db" | "vault" | "denyHosts">;

/** An endpoint as the API shows it: never its secret (that is in the create response only). */
export interface WebhookEndpoint {
  id: number;
  url: string;
  description: string;
  eventTypes: WebhookEventType[];
  tenant: string | null;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** How its latest delivery went, for the list; null before the first. */
  lastDelivery: { status: "pending" | "delivered" | "failed"; at: Date } | null;
}

/** One delivery of one event, with its attempts: the endpoint's delivery log. */
export interface WebhookDelivery {
  id: number;
  eventId: string;
  eventType: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  lastStatusCode: number | null;
  lastResponseMs: number | null;
  lastError: string | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
  deliveredAt: Date | null;
  /** Oldest first. */
  attemptLog: {
    number: number;
    redelivery: boolean;
    at: Date;
    ok: boolean;
    statusCode: number | null;
    responseMs: number;
    error: string | null;
  }[];
}

function toView(row: WebhookEndpointRow, last: WebhookEndpoint["lastDelivery"]): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: row.event_types as WebhookEventType[],
    tenant: row.tenant,
    enabled: row.enabled,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastDelivery: last,
  };
}

/** A literal IP in the URL that the deny-list covers is refused when saved; a name is checked on sending. */
function assertUrlAllowed(ctx: Ctx, url: string): void {
  if (!ctx.denyHosts) return;
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, "$1");
  if (!ctx.denyHosts.deniesAddress(host)) return;
  throw new ImapferryError(
    "BAD_INPUT",
    `The webhook URL's host ${host} is not allowed on this installation (IMAPFERRY_DENY_HOSTS).`,
    [{ path: ["url"], message: DENIED_HOST_SENTENCE }],
  );
}

/** The endpoint, if the caller may see it (a tenant's token: only its tenant's); NOT_FOUND otherwise. */
async function endpointInScope(ctx: Ctx, caller: Principal, id: number): Promise<WebhookEndpointRow> {
  let query = ctx.db.selectFrom("webhook_endpoints").selectAll().where("id", "=", id);
  if (caller.tenant !== null) query = query.where("tenant", "=", caller.tenant);
  const row = await query.executeTakeFirst();
  if (!row) throw new ImapferryError("NOT_FOUND", `There is no webhook endpoint ${id}.`);
  return row;
}

async function lastDeliveries(
  ctx: Ctx,
  ids: number[],
): Promise<Map<number, WebhookEndpoint["lastDelivery"]>> {
  if (ids.length === 0) return new Map();
  const rows = await ctx.db
    .selectFrom("webhook_deliveries")
    .distinctOn("endpoint_id")
    .select(["endpoint_id", "status", "created_at"])
    .where("endpoint_id", "in", ids)
    .orderBy("endpoint_id")
    .orderBy("id", "desc")
    .execute();
  return new Map(rows.map((r) => [r.endpoint_id, { status: r.status, at: r.created_at }]));
}

/** The endpoints the caller manages (admins; a tenant's admin token: its tenant's), oldest first. */
export async function listWebhookEndpoints(ctx: Ctx, caller: Principal): Promise<WebhookEndpoint[]> {
  assertAllowed(caller, "manage-webhooks");
  let query = ctx.db.selectFrom("webhook_endpoints").selectAll().orderBy("id");
  if (caller.tenant !== null) query = query.where("tenant", "=", caller.tenant);
  const rows = await query.execute();
  const last = await lastDeliveries(
    ctx,
    rows.map((r) => r.id),
  );
  return rows.map((row) => toView(row, last.get(row.id) ?? null));
}

/**
 * Creates an endpoint. The secret (given, or generated) is stored encrypted and returned here only.
 * A tenant's token creates endpoints of its tenant only (FORBIDDEN for another).
 */
export async function createWebhookEndpoint(
  ctx: Ctx,
  caller: Principal,
  input: CreateWebhookInput,
): Promise<{ secret: string; webhook: WebhookEndpoint }> {
  assertAllowed(caller, "manage-webhooks");
  const v = parseInput(createWebhookInputSchema, input, "webhook endpoint");
  const tenant = scopedTenant(caller, v.tenant) ?? null;
  assertUrlAllowed(ctx, v.url);
  const secret = v.secret ?? generateWebhookSecret();
  const row = await ctx.db
    .insertInto("webhook_endpoints")
    .values({
      url: v.url,
      description: v.description ?? "",
      secret: ctx.vault.encrypt(secret),
      event_types: v.eventTypes,
      tenant,
      enabled: v.enabled ?? true,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { secret, webhook: toView(row, null) };
}

/** Changes only the fields sent. A tenant's token cannot move an endpoint to another tenant. */
export async function updateWebhookEndpoint(
  ctx: Ctx,
  caller: Principal,
  input: UpdateWebhookInput,
): Promise<WebhookEndpoint> {
  assertAllowed(caller, "manage-webhooks");
  const v = parseInput(updateWebhookInputSchema, input, "webhook endpoint");
  await endpointInScope(ctx, caller, v.id);
  if (v.tenant !== undefined && caller.tenant !== null && v.tenant !== caller.tenant) {
    throw new ImapferryError(
      "FORBIDDEN",
      `This token is bound to tenant "${caller.tenant}": its endpoints hear of that tenant's events only.`,
    );
  }
  if (v.url !== undefined) assertUrlAllowed(ctx, v.url);
  const row = await ctx.db
    .updateTable("webhook_endpoints")
    .set({
      ...(v.url !== undefined ? { url: v.url } : {}),
      ...(v.eventTypes !== undefined ? { event_types: v.eventTypes } : {}),
      ...(v.tenant !== undefined ? { tenant: v.tenant } : {}),
      ...(v.description !== undefined ? { description: v.description } : {}),
      ...(v.enabled !== undefined ? { enabled: v.enabled } : {}),
      updated_at: sql<Date>`now()`,
    })
    .where("id", "=", v.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const last = await lastDeliveries(ctx, [row.id]);
  return toView(row, last.get(row.id) ?? null);
}

/** Deletes an endpoint with its delivery log; attempts still queued find nothing and end. */
export async function deleteWebhookEndpoint(
  ctx: Ctx,
  caller: Principal,
  id: number,
): Promise<{ id: number }> {
  assertAllowed(caller, "manage-webhooks");
  await endpointInScope(ctx, caller, id);
  await ctx.db.deleteFrom("webhook_endpoints").where("id", "=", id).execute();
  return { id };
}

/** The endpoint's delivery log, newest first, each delivery with its attempts. */
export async function listWebhookDeliveries(
  ctx: Ctx,
  caller: Principal,
  input: ListWebhookDeliveriesInput,
): Promise<{ items: WebhookDelivery[]; nextCursor: string | null }> {
  assertAllowed(caller, "manage-webhooks");
  const v = parseInput(listWebhookDeliveriesInputSchema, input, "delivery log query");
  await endpointInScope(ctx, caller, v.id);
  const limit = v.limit ?? 50;
  // One snapshot for both reads: an attempt recorded in between would otherwise show in the attempt
  // log but not yet in the delivery's counts.
  const { rows, attempts } = await ctx.db
    .transaction()
    .setIsolationLevel("repeatable read")
    .execute(async function readDeliveryLog(trx) {
      let query = trx
        .selectFrom("webhook_deliveries as d")
        .innerJoin("webhook_events as ev", "ev.id", "d.event_id")
        .selectAll("d")
        .select(["ev.type"])
        .where("d.endpoint_id", "=", v.id)
        .orderBy("d.id", "desc")
        .limit(limit + 1);
      if (v.cursor !== undefined) query = query.where("d.id", "<", Number(v.cursor));
      const rows = await query.execute();
      const page = rows.slice(0, limit);
      const attempts =
        page.length === 0
          ? []
          : await trx
              .selectFrom("webhook_attempts")
              .selectAll()
              .where(
                "delivery_id",
                "in",
                page.map((r) => r.id),
              )
              .orderBy("id")
              .execute();
      return { rows, attempts };
    });
  const page = rows.slice(0, limit);
  return {
    items: page.map((r) => ({
      id: r.id,
      eventId: `evt_${r.event_id}`,
      eventType: r.type,
      status: r.status,
      attempts: r.attempts,
      lastStatusCode: r.last_status_code,
      lastResponseMs: r.last_response_ms,
      lastError: r.last_error,
      nextAttemptAt: r.next_attempt_at,
      createdAt: r.created_at,
      deliveredAt: r.delivered_at,
      attemptLog: attempts
        .filter((a) => a.delivery_id === r.id)
        .map((a) => ({
          number: a.number,
          redelivery: a.redelivery,
          at: a.started_at,
          ok: a.ok,
          statusCode: a.status_code,
          responseMs: a.response_ms,
          error: a.error,
        })),
    })),
    nextCursor: rows.length > limit ? String(page[page.length - 1]?.id) : null,
  };
}

/** A new attempt of an existing delivery, now (the same event, body and delivery id). */
export async function redeliverWebhook(
  ctx: Ctx,
  caller: Principal,
  input: RedeliverWebhookInput,
): Promise<{ deliveryId: number; queued: true }> {
  assertAllowed(caller, "manage-webhooks");
  const v = parseInput(redeliverWebhookInputSchema, input, "redelivery");
  let query = ctx.db
    .selectFrom("webhook_deliveries as d")
    .innerJoin("webhook_endpoints as e", "e.id", "d.endpoint_id")
    .select("d.id")
    .where("d.id", "=", v.deliveryId);
  // Another tenant's delivery answers as one that does not exist.
  if (caller.tenant !== null) query = query.where("e.tenant", "=", caller.tenant);
  const delivery = await query.executeTakeFirst();
  if (!delivery) throw new ImapferryError("NOT_FOUND", `There is no webhook delivery ${v.deliveryId}.`);
  await queueWebhookDelivery(ctx.db, delivery.id, { redelivery: true });
  return { deliveryId: delivery.id, queued: true };
}

/** Sends a `ping` event to one endpoint (enabled or not), to try the receiver and its signature check. */
export async function pingWebhook(ctx: Ctx, caller: Principal, id: number): Promise<{ deliveryId: number }> {
  assertAllowed(caller, "manage-webhooks");
  const endpoint = await endpointInScope(ctx, caller, id);
  const [deliveryId] = await ctx.db.transaction().execute(function recordPing(trx) {
    return recordWebhookEvent(trx, {
      type: "ping",
      dedupeKey: `ping:${endpoint.id}:${Date.now()}:${Math.random().toString(36).slice(2)}`,
      tenant: endpoint.tenant,
      data: { webhook: { id: endpoint.id, url: endpoint.url } },
      onlyEndpointId: endpoint.id,
    });
  });
  if (deliveryId === undefined) throw new ImapferryError("INTERNAL", "The ping could not be recorded.");
  return { deliveryId };
}
