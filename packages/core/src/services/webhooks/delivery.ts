import { sql } from "kysely";
import type { ServiceContext } from "../../context.ts";
import { errorMessage } from "../../errors.ts";
import { queueWebhookDelivery } from "./queue.ts";
import { WEBHOOK_RETRY_WINDOW_MS, webhookRetryDelayMs } from "./retry-schedule.ts";
import { webhookSignatureHeader } from "./signature.ts";

export interface DeliveryOptions {
  /** The first retry's delay before jitter (tests make it short). @defaultValue 30 s */
  retryBaseMs?: number;
  /** How long automatic retries go on after the delivery was created. @defaultValue 24 h */
  retryWindowMs?: number;
  /** How long one attempt waits for the receiver's answer. @defaultValue 10 s */
  timeoutMs?: number;
}

/** What one attempt came to. */
interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  responseMs: number;
  error: string | null;
}

/** The body every attempt of a delivery sends: the same bytes each time, so receivers can de-duplicate by id. */
export function webhookBody(event: { id: number; type: string; created_at: Date; data: unknown }): string {
  return JSON.stringify({
    id: `evt_${event.id}`,
    type: event.type,
    createdAt: event.created_at.toISOString(),
    data: event.data,
  });
}

/** "host:port" of a URL, for sentences (never its path or query, which may hold a receiver's token). */
function describeReceiver(url: URL): string {
  return url.port ? `${url.hostname}:${url.port}` : url.hostname;
}

/** Node's fetch hides the network error in `cause`; its code says what happened. */
function networkReason(e: unknown): string {
  const cause =
    e instanceof Error ? (e.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === "string") return cause.code;
  if (cause && typeof cause.message === "string") return cause.message;
  return errorMessage(e);
}

async function post(
  ctx: Pick<ServiceContext, "denyHosts">,
  target: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<AttemptResult> {
  const url = new URL(target);
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  if (ctx.denyHosts && (await ctx.denyHosts.deniesHost(url.hostname))) {
    return {
      ok: false,
      statusCode: null,
      responseMs: elapsed(),
      error: "The receiver's host is not allowed on this installation (IMAPFERRY_DENY_HOSTS).",
    };
  }
  try {
    // No redirects: a 3xx could send the delivery (and its signature) to a host nobody checked.
    const response = await fetch(url, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The answer's body is not kept (only its code), but read so the connection can be reused.
    await response.arrayBuffer().catch(() => undefined);
    const ok = response.status >= 200 && response.status < 300;
    return {
      ok,
      statusCode: response.status,
      responseMs: elapsed(),
      error: ok
        ? null
        : `${describeReceiver(url)} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}; only a 2xx answer counts as delivered.`,
    };
  } catch (e: unknown) {
    const timedOut = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
    return {
      ok: false,
      statusCode: null,
      responseMs: elapsed(),
      error: timedOut
        ? `${describeReceiver(url)} did not answer within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}.`
        : `Could not reach ${describeReceiver(url)}: ${networkReason(e)}.`,
    };
  }
}

/**
 * One attempt of one delivery, recorded in the delivery log. After a failed automatic attempt the next
 * one is queued with exponential backoff until the retry window (24 h from the delivery's creation)
 * is over; then the delivery is marked failed. A redelivery of a delivery that was delivered or given
 * up is one extra attempt and schedules nothing.
 */
export async function attemptWebhookDelivery(
  ctx: Pick<ServiceContext, "db" | "vault" | "log" | "denyHosts">,
  deliveryId: number,
  options: DeliveryOptions & { redelivery?: boolean } = {},
): Promise<"delivered" | "retrying" | "failed" | "skipped"> {
  const row = await ctx.db
    .selectFrom("webhook_deliveries as d")
    .innerJoin("webhook_endpoints as e", "e.id", "d.endpoint_id")
    .innerJoin("webhook_events as ev", "ev.id", "d.event_id")
    .select([
      "d.id",
      "d.status",
      "d.attempts",
      "d.created_at",
      "e.url",
      "e.secret",
      "e.enabled",
      "ev.id as event_id",
      "ev.type",
      "ev.data",
      "ev.created_at as event_created_at",
    ])
    .where("d.id", "=", deliveryId)
    .executeTakeFirst();
  if (!row) return "skipped";
  const redelivery = options.redelivery === true;
  if (!redelivery && row.status !== "pending") return "skipped";
  // A ping is asked for by someone trying the endpoint: it goes out even while the endpoint is off.
  if (!redelivery && !row.enabled && row.type !== "ping") {
    await ctx.db
      .updateTable("webhook_deliveries")
      .set({
        status: "failed",
        next_attempt_at: null,
        last_error: "The endpoint was disabled before this was delivered.",
      })
      .where("id", "=", row.id)
      .execute();
    return "failed";
  }
  const body = webhookBody({
    id: row.event_id,
    type: row.type,
    created_at: row.event_created_at,
    data: row.data,
  });
  const timestamp = Math.floor(Date.now() / 1000);
  const result = await post(
    ctx,
    row.url,
    {
      "content-type": "application/json",
      "user-agent": "imapferry-webhooks",
      "imapferry-event": row.type,
      "imapferry-delivery": String(row.id),
      "imapferry-signature": webhookSignatureHeader(ctx.vault.decrypt(row.secret), timestamp, body),
    },
    body,
    options.timeoutMs ?? 10_000,
  );
  const attemptNumber = row.attempts + 1;
  const windowOver =
    Date.now() - row.created_at.getTime() >= (options.retryWindowMs ?? WEBHOOK_RETRY_WINDOW_MS);
  // A pending delivery keeps its retry schedule, whoever asked for this attempt; a redelivery of one
  // that was delivered or given up is one extra attempt and changes neither.
  const nextAt =
    result.ok || row.status !== "pending" || windowOver
      ? null
      : new Date(Date.now() + webhookRetryDelayMs(attemptNumber, options.retryBaseMs));
  const status = result.ok ? "delivered" : row.status === "pending" && !nextAt ? "failed" : row.status;
  await ctx.db.transaction().execute(async function recordAttempt(trx) {
    // Numbered from the row under its lock: an automatic attempt and a redelivery may run at once.
    const counted = await trx
      .updateTable("webhook_deliveries")
      .set({
        attempts: sql<number>`attempts + 1`,
        last_status_code: result.statusCode,
        last_response_ms: result.responseMs,
        last_error: result.error,
        next_attempt_at: nextAt,
        // Once delivered, always delivered: a late failing attempt racing a redelivery changes nothing.
        status: sql<
          "pending" | "delivered" | "failed"
        >`case when status = 'delivered' then status else ${status} end`,
        ...(result.ok ? { delivered_at: sql<Date>`now()` } : {}),
      })
      .where("id", "=", row.id)
      .returning("attempts")
      .executeTakeFirst();
    if (!counted) return; // The endpoint was deleted meanwhile, with its log.
    await trx
      .insertInto("webhook_attempts")
      .values({
        delivery_id: row.id,
        number: counted.attempts,
        redelivery,
        started_at: new Date(timestamp * 1000),
        ok: result.ok,
        status_code: result.statusCode,
        response_ms: result.responseMs,
        error: result.error,
      })
      .execute();
    if (nextAt) await queueWebhookDelivery(trx, row.id, { runAt: nextAt });
  });
  if (!result.ok) {
    ctx.log.warn("webhook not delivered", {
      deliveryId: row.id,
      attempt: attemptNumber,
      error: result.error,
    });
  }
  return nextAt ? "retrying" : status === "pending" ? "failed" : status;
}
