import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { freeClosedPort } from "@imapferry/testkit";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Logger, ServiceContext } from "../src/context.ts";
import { parseDenyHosts } from "../src/net/deny-hosts.ts";
import { personPrincipal } from "../src/services/auth/sessions.ts";
import { createBatch } from "../src/services/batches/index.ts";
import { bulkJobs, createJob } from "../src/services/jobs/index.ts";
import { attemptWebhookDelivery } from "../src/services/webhooks/delivery.ts";
import {
  createWebhookEndpoint,
  listWebhookDeliveries,
  pingWebhook,
  updateWebhookEndpoint,
} from "../src/services/webhooks/endpoints.ts";
import {
  recordBatchEndedIfOver,
  recordJobStatusEvents,
  recordPlanCutoverEvent,
} from "../src/services/webhooks/events.ts";
import { createJobTestContext, type JobTestContext } from "./support/job-context.ts";

// What happens to a delivery apart from the happy path (the API suite has that, with a real migration):
// each event kind is recorded where its change is written, and each way a receiver can fail ends in
// the delivery log as a sentence. Attempts are made by calling the task's function directly, so
// each test decides when the next one happens; the database and the receivers are real.

const admin = personPrincipal(1, "admin");

/** Every log line, to check that no secret is logged. */
function captureLogs(): { lines: string[]; log: Logger } {
  const lines: string[] = [];
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  };
  return { lines, log: { info: write("info"), warn: write("warn"), error: write("error") } };
}

/** A receiver answering every request with `status`, or never answering with `status: "silent"`. */
async function startReceiver(
  status: number | "silent",
): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server: Server = createServer(function answer(req, res) {
    hits++;
    req.resume();
    if (status !== "silent") req.on("end", () => res.writeHead(status).end());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    hits: () => hits,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("webhook events and failed deliveries", () => {
  let t: JobTestContext;
  let ctx: ServiceContext;
  const logs = captureLogs();
  let serverId: number;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    t = await createJobTestContext({ log: logs.log });
    ctx = t.ctx;
    const [server] = await ctx.db
      .insertInto("servers")
      .values({ name: "imap", host: "imap.invalid", port: 993, security: "tls" })
      .returning("id")
      .execute();
    serverId = server?.id ?? 0;
  });

  afterAll(async () => {
    for (const close of closers) await close();
    await t?.close();
  });

  async function receiver(status: number | "silent") {
    const started = await startReceiver(status);
    closers.push(started.close);
    return started;
  }

  async function newJob(extra: Record<string, unknown> = {}) {
    return createJob(ctx, {
      sourceServerId: serverId,
      sourceEmail: `u${Math.random().toString(36).slice(2, 8)}@old.example`,
      sourcePassword: "Source-pw-4711",
      destServerId: serverId,
      destEmail: "same@new.example",
      destPassword: "Dest-pw-0815",
      ...extra,
    });
  }

  async function deliveriesOf(endpointId: number) {
    return (await listWebhookDeliveries(ctx, admin, { id: endpointId })).items;
  }

  async function eventsOfType(type: string) {
    return ctx.db.selectFrom("webhook_events").selectAll().where("type", "=", type).execute();
  }

  it("records nothing while no endpoint wants an event", async () => {
    const job = await newJob();
    await bulkJobs(ctx, { action: "cancel", ids: [job.id] });
    expect(await ctx.db.selectFrom("webhook_events").select("id").execute()).toEqual([]);
  });

  it("a queued job cancelled tells job.ended with status cancelled, once, and a batch's end follows", async () => {
    const hook = await receiver(200);
    const { webhook } = await createWebhookEndpoint(ctx, admin, {
      url: hook.url,
      eventTypes: ["job.ended", "batch.ended"],
    });
    const batch = await createBatch(ctx, { tag: "cancelled wave" });
    const job = await newJob({ batchId: batch.id });
    await bulkJobs(ctx, { action: "cancel", ids: [job.id] });
    // Cancelling again changes nothing, and records nothing twice.
    await bulkJobs(ctx, { action: "cancel", ids: [job.id] });
    const [ended] = await deliveriesOf(webhook.id);
    expect(ended).toMatchObject({ eventType: "job.ended", status: "pending", attempts: 0 });
    const events = await eventsOfType("job.ended");
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toMatchObject({ job: { id: job.id, status: "cancelled", batchId: batch.id } });
    // The batch check was queued in the same transaction; its task records batch.ended once.
    const checks = await sql<{ n: number }>`
      select count(*)::int as n from graphile_worker.jobs where task_identifier = 'webhook_batch_check'`.execute(
      ctx.db,
    );
    expect(checks.rows[0]?.n).toBe(1);
    expect(await recordBatchEndedIfOver(ctx.db, batch.id)).toBe("recorded");
    await recordBatchEndedIfOver(ctx.db, batch.id);
    const batchEvents = await eventsOfType("batch.ended");
    expect(batchEvents).toHaveLength(1);
    expect(batchEvents[0]?.data).toMatchObject({ batch: { id: batch.id, counts: { cancelled: 1 } } });
    expect((await deliveriesOf(webhook.id)).map((d) => d.eventType)).toEqual(["batch.ended", "job.ended"]);
    await updateWebhookEndpoint(ctx, admin, { id: webhook.id, enabled: false });
  });

  it("a job that starts waiting tells job.waiting with when it resumes, once per wait", async () => {
    const hook = await receiver(200);
    const { webhook } = await createWebhookEndpoint(ctx, admin, {
      url: hook.url,
      eventTypes: ["job.waiting"],
    });
    const job = await newJob();
    // What writeOutcome writes for a passing fault, then the call it makes in the same transaction.
    const wait = async () =>
      ctx.db.transaction().execute(async (trx) => {
        await trx
          .updateTable("jobs")
          .set({
            status: "waiting",
            attempt: sql<number>`attempt + 1`,
            resume_at: sql<Date>`now() + interval '5 minutes'`,
            error_message: "The source server asked to slow down.",
          })
          .where("id", "=", job.id)
          .execute();
        await recordJobStatusEvents(trx, [job.id]);
      });
    await wait();
    await ctx.db.transaction().execute((trx) => recordJobStatusEvents(trx, [job.id]));
    await wait();
    const events = await eventsOfType("job.waiting");
    expect(events).toHaveLength(2);
    expect(events[0]?.data).toMatchObject({
      job: { id: job.id, status: "waiting", resumeAt: expect.any(String), errorMessage: expect.any(String) },
    });
    expect(await deliveriesOf(webhook.id)).toHaveLength(2);
    await updateWebhookEndpoint(ctx, admin, { id: webhook.id, enabled: false });
  });

  it("a plan's cutover tells plan.cutover with its counts, to its tenant's endpoint only", async () => {
    const hook = await receiver(200);
    const acme = await createWebhookEndpoint(ctx, admin, {
      url: hook.url,
      eventTypes: ["plan.cutover"],
      tenant: "acme",
    });
    const globex = await createWebhookEndpoint(ctx, admin, {
      url: hook.url,
      eventTypes: ["plan.cutover"],
      tenant: "globex",
    });
    const batch = await createBatch(ctx, { tag: "acme wave", tenant: "acme" });
    const plan = {
      batch_id: batch.id,
      cutover_started_at: new Date("2026-12-06T22:00:00Z"),
      ended_at: new Date("2026-12-06T23:00:00Z"),
      complete_count: 3,
      attention_count: 1,
    };
    await recordPlanCutoverEvent(ctx.db, plan);
    await recordPlanCutoverEvent(ctx.db, plan);
    const [delivery] = await deliveriesOf(acme.webhook.id);
    expect(delivery?.eventType).toBe("plan.cutover");
    expect(await deliveriesOf(acme.webhook.id)).toHaveLength(1);
    expect(await deliveriesOf(globex.webhook.id)).toEqual([]);
    const [event] = await eventsOfType("plan.cutover");
    expect(event?.data).toMatchObject({
      batch: { id: batch.id, tenant: "acme" },
      plan: { completeCount: 3, attentionCount: 1 },
    });
    for (const { webhook } of [acme, globex])
      await updateWebhookEndpoint(ctx, admin, { id: webhook.id, enabled: false });
  });

  /** A pending delivery to `url` (a ping, which goes to one endpoint), and its endpoint's secret. */
  async function pendingDelivery(url: string, options: { ctx?: ServiceContext } = {}) {
    const { webhook, secret } = await createWebhookEndpoint(options.ctx ?? ctx, admin, {
      url,
      eventTypes: ["job.ended"],
    });
    const { deliveryId } = await pingWebhook(ctx, admin, webhook.id);
    return { endpointId: webhook.id, deliveryId, secret };
  }

  it("after the retry window a failing delivery is marked failed, with the receiver's answer", async () => {
    const hook = await receiver(503);
    const { endpointId, deliveryId } = await pendingDelivery(hook.url);
    expect(await attemptWebhookDelivery(ctx, deliveryId, { retryBaseMs: 60_000 })).toBe("retrying");
    const [retrying] = await deliveriesOf(endpointId);
    expect(retrying).toMatchObject({ status: "pending", attempts: 1, lastStatusCode: 503 });
    expect(retrying?.nextAttemptAt).not.toBeNull();
    expect(await attemptWebhookDelivery(ctx, deliveryId, { retryWindowMs: 0 })).toBe("failed");
    const [failed] = await deliveriesOf(endpointId);
    expect(failed).toMatchObject({
      status: "failed",
      attempts: 2,
      nextAttemptAt: null,
      lastError: expect.stringMatching(
        /^127\.0\.0\.1:\d+ answered 503 Service Unavailable; only a 2xx answer counts as delivered\.$/,
      ),
    });
    // A failed delivery gets no more automatic attempts; a redelivery is one more, and keeps it failed.
    expect(await attemptWebhookDelivery(ctx, deliveryId)).toBe("skipped");
    expect(await attemptWebhookDelivery(ctx, deliveryId, { redelivery: true })).toBe("failed");
    expect((await deliveriesOf(endpointId))[0]?.attemptLog.map((a) => [a.number, a.redelivery])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(hook.hits()).toBe(3);
  });

  it("a receiver that does not answer, a refused connection and a denied host are sentences in the log", async () => {
    const silent = await receiver("silent");
    const slow = await pendingDelivery(silent.url);
    await attemptWebhookDelivery(ctx, slow.deliveryId, { timeoutMs: 300, retryBaseMs: 60_000 });
    expect((await deliveriesOf(slow.endpointId))[0]).toMatchObject({
      status: "pending",
      lastStatusCode: null,
      lastError: expect.stringMatching(/^127\.0\.0\.1:\d+ did not answer within 300 ms\.$/),
    });

    const port = await freeClosedPort();
    const closed = await pendingDelivery(`http://127.0.0.1:${port}/hook`);
    await attemptWebhookDelivery(ctx, closed.deliveryId, { retryBaseMs: 60_000 });
    expect((await deliveriesOf(closed.endpointId))[0]?.lastError).toBe(
      `Could not reach 127.0.0.1:${port}: ECONNREFUSED.`,
    );

    // A host name passes when saved; what it resolves to is checked before each attempt.
    const hook = await receiver(200);
    const denying: ServiceContext = { ...ctx, denyHosts: parseDenyHosts(["127.0.0.0/8", "::1"]) };
    const denied = await pendingDelivery(hook.url.replace("127.0.0.1", "localhost"), { ctx: denying });
    await attemptWebhookDelivery(denying, denied.deliveryId, { retryBaseMs: 60_000 });
    expect((await deliveriesOf(denied.endpointId))[0]?.lastError).toBe(
      "The receiver's host is not allowed on this installation (IMAPFERRY_DENY_HOSTS).",
    );
    expect(hook.hits()).toBe(0);
  });

  it("a delivery pending when its endpoint is disabled is given up, saying why", async () => {
    const hook = await receiver(200);
    const { webhook } = await createWebhookEndpoint(ctx, admin, { url: hook.url, eventTypes: ["job.ended"] });
    const job = await newJob();
    await bulkJobs(ctx, { action: "cancel", ids: [job.id] });
    const [pending] = await deliveriesOf(webhook.id);
    await updateWebhookEndpoint(ctx, admin, { id: webhook.id, enabled: false });
    expect(await attemptWebhookDelivery(ctx, pending?.id ?? 0)).toBe("failed");
    expect((await deliveriesOf(webhook.id))[0]).toMatchObject({
      status: "failed",
      attempts: 0,
      lastError: "The endpoint was disabled before this was delivered.",
    });
    expect(hook.hits()).toBe(0);
  });

  it("never logs or stores a secret in plain text", async () => {
    const stored = await ctx.db.selectFrom("webhook_endpoints").select("secret").execute();
    for (const row of stored) expect(row.secret).toMatch(/^v1:/);
    const secrets = await Promise.all(stored.map((row) => ctx.vault.decrypt(row.secret)));
    for (const secret of secrets) for (const line of logs.lines) expect(line).not.toContain(secret);
    expect(logs.lines.some((line) => line.includes("webhook not delivered"))).toBe(true);
  });
});
