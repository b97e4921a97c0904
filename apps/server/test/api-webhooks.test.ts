import { createApiToken, verifyWebhookSignature } from "@imapferry/core";
import type { ImapferryClient } from "@imapferry/sdk";
import { rowsToCsv } from "@imapferry/sdk";
import type { ImapPair } from "@imapferry/testkit";
import { readMailbox, seedMailbox, startImapPair } from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { ResponseRecorder, startApiTestServer } from "./api-harness.ts";
import { addImapPairServers, adminTokenClient } from "./support/admin-client.ts";
import { errorOf } from "./support/client-error.ts";
import { waitFor } from "./support/wait-for.ts";
import { signatureMatches, startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver.ts";

// A hosting panel learns that a migration ended from a signed HTTP request instead of holding an SSE
// stream open: a real receiver here, a real migration (Dovecot → Dovecot through the built-in engine).

const SOURCE_PASSWORD = "src-Hook-3141!";
const DEST_PASSWORD = "dst-Hook-2718?";
const TEST_TIMEOUT_MS = 600_000;

function message(i: number): string {
  return [
    `From: Sender ${i} <sender${i}@example.org>`,
    "To: someone@example.com",
    `Subject: Hooked message ${i}`,
    `Message-ID: <hook-${i}@example.org>`,
    "Date: Mon, 02 Nov 2026 10:00:00 +0000",
    "",
    `Body of message ${i}.`,
    "",
  ].join("\r\n");
}

describe("signed webhooks", () => {
  let server: ApiTestServer;
  let imap: ImapPair;
  let receiver: WebhookReceiver;
  let client: ImapferryClient;
  const recorder = new ResponseRecorder();
  let adminId: number;
  let sourceServerId: number;
  let destServerId: number;
  const mailboxes = ["alice@example.com", "bob@example.com"];
  /** Endpoint ids and secrets by role in the tests. */
  const hooks = {} as Record<
    "steady" | "flaky" | "acme" | "globex" | "batches",
    { id: number; secret: string }
  >;
  let jobId: number;

  beforeAll(async () => {
    [server, imap, receiver] = await Promise.all([
      startApiTestServer({ webhookRetryBaseMs: 200 }),
      startImapPair(),
      startWebhookReceiver(),
    ]);
    for (const user of mailboxes) {
      await imap.source.addUser(user, SOURCE_PASSWORD);
      await imap.destination.addUser(user, DEST_PASSWORD);
      await seedMailbox(imap.source, user, SOURCE_PASSWORD, {
        folders: [{ path: "INBOX", messages: Array.from({ length: 5 }, (_, i) => ({ source: message(i) })) }],
      });
    }
    ({ client, adminId } = await adminTokenClient(
      server,
      { name: "panel", role: "admin" },
      { fetch: recorder.fetch },
    ));
    ({ sourceId: sourceServerId, destId: destServerId } = await addImapPairServers(client, imap));
  });

  afterAll(async () => {
    await server?.stop();
    await imap?.stop();
    await receiver?.close();
  });

  async function deliveriesOf(id: number) {
    return (await client.webhooks.deliveries.query({ id })).items;
  }

  it(
    "a migration's end reaches the receiver once, signed with the secret shown at creation",
    async () => {
      const steady = await client.webhooks.create.mutate({
        url: receiver.url("/steady"),
        eventTypes: ["job.ended"],
        description: "billing panel",
      });
      expect(steady.secret).toMatch(/^whsec_[A-Za-z0-9_-]{40,}$/);
      expect(steady.webhook).toMatchObject({ eventTypes: ["job.ended"], tenant: null, enabled: true });
      hooks.steady = { id: steady.webhook.id, secret: steady.secret };
      // The receiver fails first here: the delivery is retried and then succeeds.
      const flakySecret = "a-secret-the-panel-chose-1234";
      const flaky = await client.webhooks.create.mutate({
        url: receiver.url("/flaky"),
        eventTypes: ["job.ended", "batch.ended"],
        secret: flakySecret,
      });
      expect(flaky.secret).toBe(flakySecret);
      hooks.flaky = { id: flaky.webhook.id, secret: flakySecret };
      receiver.answerNext("/flaky", 500);
      // Tenant filters: acme's hears of acme's job, globex's hears nothing.
      for (const tenant of ["acme", "globex"] as const) {
        const created = await client.webhooks.create.mutate({
          url: receiver.url(`/${tenant}`),
          eventTypes: ["job.ended"],
          tenant,
        });
        hooks[tenant] = { id: created.webhook.id, secret: created.secret };
      }

      const job = await client.jobs.create.mutate({
        name: "alice",
        tenant: "acme",
        sourceServerId,
        sourceEmail: "alice@example.com",
        sourcePassword: SOURCE_PASSWORD,
        destServerId,
        destEmail: "alice@example.com",
        destPassword: DEST_PASSWORD,
        dryRun: false,
      });
      jobId = job.id;
      const ended = await waitFor("the job to end", async () => {
        const j = await client.jobs.get.query({ id: job.id });
        return ["done", "incomplete", "failed", "cancelled"].includes(j.status) ? j : null;
      });
      expect(ended.status).toBe("done");
      const copied = await readMailbox(imap.destination, "alice@example.com", DEST_PASSWORD);
      expect(copied.folders.find((f) => f.path === "INBOX")?.messages).toHaveLength(5);

      const steadyLog = await waitFor("the steady delivery", async () => {
        const items = await deliveriesOf(hooks.steady.id);
        return items[0]?.status === "delivered" ? items : null;
      });
      expect(steadyLog).toHaveLength(1);
      const hook = receiver.received.filter((r) => r.path === "/steady");
      expect(hook).toHaveLength(1);
      const [received] = hook;
      if (!received) throw new Error("unreachable");
      expect(received.headers["content-type"]).toBe("application/json");
      expect(received.headers["imapferry-event"]).toBe("job.ended");
      expect(received.headers["imapferry-delivery"]).toBe(String(steadyLog[0]?.id));
      expect(signatureMatches(hooks.steady.secret, received)).toBe(true);
      expect(
        verifyWebhookSignature(
          hooks.steady.secret,
          String(received.headers["imapferry-signature"]),
          received.body,
        ),
      ).toBe(true);
      // Another secret (the flaky endpoint's) does not verify it: the signature is per endpoint.
      expect(signatureMatches(hooks.flaky.secret, received)).toBe(false);
      const body = JSON.parse(received.body);
      expect(body).toMatchObject({
        id: steadyLog[0]?.eventId,
        type: "job.ended",
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        data: {
          job: {
            id: job.id,
            status: "done",
            tenant: "acme",
            sourceEmail: "alice@example.com",
            destEmail: "alice@example.com",
          },
        },
      });
      expect(steadyLog[0]).toMatchObject({
        eventType: "job.ended",
        attempts: 1,
        lastStatusCode: 200,
        lastError: null,
        attemptLog: [{ number: 1, ok: true, statusCode: 200, redelivery: false }],
      });
      expect(steadyLog[0]?.lastResponseMs).toEqual(expect.any(Number));
      expect(received.body).not.toContain(SOURCE_PASSWORD);
      expect(received.body).not.toContain(DEST_PASSWORD);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a receiver that answers 500 first gets the delivery again, and the log shows both attempts",
    async () => {
      const log = await waitFor("the flaky delivery to succeed", async () => {
        const items = await deliveriesOf(hooks.flaky.id);
        return items[0]?.status === "delivered" ? items : null;
      });
      expect(log).toHaveLength(1);
      expect(log[0]).toMatchObject({ attempts: 2, lastStatusCode: 200, lastError: null });
      expect(log[0]?.attemptLog).toEqual([
        expect.objectContaining({
          number: 1,
          ok: false,
          statusCode: 500,
          error: expect.stringMatching(
            /^127\.0\.0\.1:\d+ answered 500 Internal Server Error; only a 2xx answer counts as delivered\.$/,
          ),
        }),
        expect.objectContaining({ number: 2, ok: true, statusCode: 200, error: null }),
      ]);
      const hooked = receiver.received.filter((r) => r.path === "/flaky");
      expect(hooked.map((r) => r.status)).toEqual([500, 200]);
      // The same delivery both times: same delivery id, same body; each signed with the endpoint's secret.
      expect(new Set(hooked.map((r) => r.headers["imapferry-delivery"])).size).toBe(1);
      expect(hooked[0]?.body).toBe(hooked[1]?.body);
      for (const hook of hooked) expect(signatureMatches(hooks.flaky.secret, hook)).toBe(true);
    },
    TEST_TIMEOUT_MS,
  );

  it("a tenant filter keeps other tenants' events out", async () => {
    const acme = await waitFor("acme's delivery", async () => {
      const items = await deliveriesOf(hooks.acme.id);
      return items[0]?.status === "delivered" ? items : null;
    });
    expect(acme).toHaveLength(1);
    expect(receiver.received.filter((r) => r.path === "/acme")).toHaveLength(1);
    // Deliveries are recorded in the transaction of the job's end, with the others: none for globex.
    expect(await deliveriesOf(hooks.globex.id)).toEqual([]);
    expect(receiver.received.filter((r) => r.path === "/globex")).toEqual([]);
    // Exactly one delivery per event per endpoint, in the database as well.
    const rows = await server.ctx.db.selectFrom("webhook_deliveries").select(["endpoint_id"]).execute();
    expect(rows.map((r) => r.endpoint_id).sort()).toEqual(
      [hooks.steady.id, hooks.flaky.id, hooks.acme.id].sort(),
    );
  });

  it("Redeliver makes a new attempt of the same delivery", async () => {
    const [delivery] = await deliveriesOf(hooks.steady.id);
    if (!delivery) throw new Error("the steady endpoint has no delivery");
    const before = receiver.received.filter((r) => r.path === "/steady");
    expect(await client.webhooks.redeliver.mutate({ deliveryId: delivery.id })).toEqual({
      deliveryId: delivery.id,
      queued: true,
    });
    const log = await waitFor("the redelivery's attempt", async () => {
      const items = await deliveriesOf(hooks.steady.id);
      return (items[0]?.attemptLog.length ?? 0) >= 2 ? items : null;
    });
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ id: delivery.id, status: "delivered", attempts: 2 });
    expect(log[0]?.attemptLog[1]).toMatchObject({ number: 2, ok: true, redelivery: true, statusCode: 200 });
    const after = receiver.received.filter((r) => r.path === "/steady");
    expect(after).toHaveLength(before.length + 1);
    const again = after[after.length - 1];
    expect(again?.headers["imapferry-delivery"]).toBe(String(delivery.id));
    expect(again?.body).toBe(before[0]?.body);
    expect(again && signatureMatches(hooks.steady.secret, again)).toBe(true);
  });

  it(
    "a batch's end is told once, after its last job ended",
    async () => {
      const batch = await client.batches.import.mutate({
        tag: "hooked wave",
        csv: rowsToCsv([
          {
            sourceServerId,
            sourceEmail: "bob@example.com",
            sourcePassword: SOURCE_PASSWORD,
            destServerId,
            destEmail: "bob@example.com",
            destPassword: DEST_PASSWORD,
            dryRun: false,
          },
        ]),
      });
      const batchId = batch.batch.id;
      const log = await waitFor("the batch.ended delivery", async () => {
        const items = await deliveriesOf(hooks.flaky.id);
        const ended = items.filter((d) => d.eventType === "batch.ended");
        return ended[0]?.status === "delivered" ? items : null;
      });
      // The flaky endpoint also hears of the batch's job: job.ended (twice now) and batch.ended once.
      expect(log.map((d) => d.eventType).sort()).toEqual(["batch.ended", "job.ended", "job.ended"]);
      const hook = receiver.received.filter(
        (r) => r.path === "/flaky" && r.headers["imapferry-event"] === "batch.ended",
      );
      expect(hook).toHaveLength(1);
      expect(JSON.parse(hook[0]?.body ?? "{}")).toMatchObject({
        type: "batch.ended",
        data: { batch: { id: batchId, tag: "hooked wave", counts: { done: 1 } } },
      });
    },
    TEST_TIMEOUT_MS,
  );

  it("bad input is refused with a sentence naming the field, and changes nothing", async () => {
    const count = async () => (await client.webhooks.list.query()).length;
    const before = await count();
    // Calls made one at a time (a refusal must not be left unhandled while another is awaited).
    const cases: [() => Promise<unknown>, string, RegExp][] = [
      [
        () =>
          client.webhooks.create.mutate({ url: "ftp://files.example.com/hook", eventTypes: ["job.ended"] }),
        "BAD_REQUEST",
        /^url: Only http:\/\/ and https:\/\/ URLs can receive webhooks\.$/,
      ],
      [
        () => client.webhooks.create.mutate({ url: "panel.example.com/hook", eventTypes: ["job.ended"] }),
        "BAD_REQUEST",
        /^url: This is not a URL\. Enter the full address of the receiver/,
      ],
      [
        () =>
          client.webhooks.create.mutate({
            url: "https://user:pw@panel.example.com/",
            eventTypes: ["job.ended"],
          }),
        "BAD_REQUEST",
        /^url: Leave the user and password out of the URL/,
      ],
      [
        () =>
          client.webhooks.create.mutate({
            url: "https://panel.example.com/hook",
            // @ts-expect-error: an event type that does not exist, as a PHP panel could send it
            eventTypes: ["job.exploded"],
          }),
        "BAD_REQUEST",
        /^eventTypes\.0: There is no event type "job\.exploded"\. Choose from job\.ended, job\.waiting, batch\.ended, plan\.cutover\.$/,
      ],
      [
        () => client.webhooks.create.mutate({ url: "https://panel.example.com/hook", eventTypes: [] }),
        "BAD_REQUEST",
        /^eventTypes: Choose at least one event type\.$/,
      ],
      [
        () =>
          client.webhooks.create.mutate({
            url: "https://panel.example.com/hook",
            eventTypes: ["job.ended"],
            secret: "short",
          }),
        "BAD_REQUEST",
        /^secret: A webhook secret has at least 16 characters/,
      ],
      [
        () => client.webhooks.update.mutate({ id: 999_999, enabled: false }),
        "NOT_FOUND",
        /^There is no webhook endpoint 999999\.$/,
      ],
      [
        () => client.webhooks.delete.mutate({ id: 999_999 }),
        "NOT_FOUND",
        /^There is no webhook endpoint 999999\.$/,
      ],
      [
        () => client.webhooks.deliveries.query({ id: 999_999 }),
        "NOT_FOUND",
        /^There is no webhook endpoint 999999\.$/,
      ],
      [
        () => client.webhooks.redeliver.mutate({ deliveryId: 999_999 }),
        "NOT_FOUND",
        /^There is no webhook delivery 999999\.$/,
      ],
      [
        () => client.webhooks.update.mutate({ id: hooks.steady.id, url: "javascript:alert(1)" }),
        "BAD_REQUEST",
        /^url: Only http:\/\/ and https:\/\/ URLs can receive webhooks\.$/,
      ],
    ];
    for (const [call, code, sentence] of cases) {
      const error = await errorOf(call());
      expect(error?.data).toMatchObject({ code: code });
      expect(error?.message).toMatch(sentence);
    }
    expect(await count()).toBe(before);
    const steady = (await client.webhooks.list.query()).find((w) => w.id === hooks.steady.id);
    expect(steady?.url).toBe(receiver.url("/steady"));
  });

  it("admins manage endpoints; a tenant's admin token only its tenant's; secrets never come back", async () => {
    const tokenOf = async (scope: { role: "admin" | "operate"; tenant?: string }) =>
      (await adminTokenClient(server, { name: `t-${Math.random()}`, ...scope }, { fetch: recorder.fetch }))
        .client;
    const operator = await tokenOf({ role: "operate" });
    const refused = await errorOf(operator.webhooks.list.query());
    expect(refused?.data).toMatchObject({ code: "FORBIDDEN" });
    expect(refused?.message).toMatch(/^Only an admin .* can see or change webhook endpoints/);

    const acme = await tokenOf({ role: "admin", tenant: "acme" });
    expect((await acme.webhooks.list.query()).map((w) => w.id)).toEqual([hooks.acme.id]);
    const own = await acme.webhooks.create.mutate({
      url: receiver.url("/acme-2"),
      eventTypes: ["batch.ended"],
    });
    expect(own.webhook.tenant).toBe("acme");
    const other = await errorOf(
      acme.webhooks.create.mutate({ url: receiver.url("/x"), eventTypes: ["job.ended"], tenant: "globex" }),
    );
    expect(other?.data).toMatchObject({ code: "FORBIDDEN" });
    for (const call of [
      () => acme.webhooks.deliveries.query({ id: hooks.globex.id }),
      () => acme.webhooks.update.mutate({ id: hooks.steady.id, enabled: false }),
      () => acme.webhooks.delete.mutate({ id: hooks.globex.id }),
    ]) {
      const error = await errorOf(call());
      expect(error?.data).toMatchObject({ code: "NOT_FOUND" });
    }
    const [steadyDelivery] = await deliveriesOf(hooks.steady.id);
    const hidden = await errorOf(acme.webhooks.redeliver.mutate({ deliveryId: steadyDelivery?.id ?? 0 }));
    expect(hidden?.message).toBe(`There is no webhook delivery ${steadyDelivery?.id}.`);
    const moved = await errorOf(acme.webhooks.update.mutate({ id: hooks.acme.id, tenant: null }));
    expect(moved?.data).toMatchObject({ code: "FORBIDDEN" });

    // Only the create response held each secret; no list, log or audit record does.
    await client.webhooks.list.query();
    await client.webhooks.deliveries.query({ id: hooks.flaky.id });
    const audit = JSON.stringify(await client.audit.list.query({ action: "webhooks." }));
    expect(audit).toContain("webhooks.create");
    for (const { secret } of Object.values(hooks)) {
      expect(recorder.containing(secret).filter((b) => !b.url.includes("webhooks.create"))).toEqual([]);
      expect(audit).not.toContain(secret);
    }
    const stored = await server.ctx.db.selectFrom("webhook_endpoints").select("secret").execute();
    for (const row of stored)
      expect(Object.values(hooks).some((h) => row.secret.includes(h.secret))).toBe(false);
  });

  it("endpoints can be switched off, pinged and deleted, over REST as well", async () => {
    const token = (await createApiToken(server.ctx, adminId, { name: "rest", role: "admin" })).token;
    const rest = (path: string, init: RequestInit = {}) =>
      fetch(`${server.url}/api/v1${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      });
    const created = await rest("/webhooks", {
      method: "POST",
      body: JSON.stringify({ url: receiver.url("/rest"), eventTypes: ["plan.cutover"] }),
    });
    expect(created.status).toBe(201);
    const { secret, webhook } = (await created.json()) as { secret: string; webhook: { id: number } };
    const off = await rest(`/webhooks/${webhook.id}`, {
      method: "POST",
      body: JSON.stringify({ enabled: false }),
    });
    expect(((await off.json()) as { enabled: boolean }).enabled).toBe(false);
    // A ping goes out even while the endpoint is off: it is how a panel tries its receiver.
    expect((await rest(`/webhooks/${webhook.id}/ping`, { method: "POST" })).status).toBe(200);
    const ping = await waitFor("the ping", async () => receiver.received.find((r) => r.path === "/rest"));
    expect(ping.headers["imapferry-event"]).toBe("ping");
    expect(signatureMatches(secret, ping)).toBe(true);
    const log = await waitFor("the ping in the log", async () => {
      const response = await rest(`/webhooks/${webhook.id}/deliveries?limit=10`);
      const page = (await response.json()) as { items: { status: string; eventType: string }[] };
      return page.items[0]?.status === "delivered" ? page.items : null;
    });
    expect(log).toMatchObject([{ eventType: "ping", status: "delivered" }]);
    const badQuery = await rest(`/webhooks/${webhook.id}/deliveries?limit=none`);
    expect(badQuery.status).toBe(400);
    expect((await rest(`/webhooks/${webhook.id}/delete`, { method: "POST" })).status).toBe(200);
    const gone = await rest(`/webhooks/${webhook.id}/deliveries`);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { error: { message: string } }).error.message).toBe(
      `There is no webhook endpoint ${webhook.id}.`,
    );
    const spec = (await (await rest("/openapi.json")).json()) as {
      paths: Record<string, unknown>;
      webhooks: Record<string, unknown>;
    };
    // The payloads a receiver gets are described too, as OpenAPI 3.1 webhooks.
    expect(Object.keys(spec.webhooks)).toEqual(["job.ended", "job.waiting", "batch.ended", "plan.cutover"]);
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        "/webhooks",
        "/webhooks/{id}/deliveries",
        "/webhook-deliveries/{deliveryId}/redeliver",
      ]),
    );
    expect(jobId).toBeGreaterThan(0);
  });
});

describe("IMAPFERRY_DENY_HOSTS=private and webhook URLs", () => {
  let server: ApiTestServer;
  let client: ImapferryClient;

  beforeAll(async () => {
    server = await startApiTestServer({ denyHosts: ["private"], worker: false });
    ({ client } = await adminTokenClient(server, { name: "t" }));
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("a URL with a denied address is refused when saved, naming the field", async () => {
    for (const url of ["http://127.0.0.1:8080/hook", "http://169.254.169.254/latest", "http://[::1]/x"]) {
      const error = await errorOf(client.webhooks.create.mutate({ url, eventTypes: ["job.ended"] }));
      expect(error?.data).toMatchObject({ code: "BAD_REQUEST" });
      expect(error?.message).toMatch(
        /^The webhook URL's host .+ is not allowed on this installation \(IMAPFERRY_DENY_HOSTS\)\.$/,
      );
    }
    expect(await client.webhooks.list.query()).toEqual([]);
  });
});
