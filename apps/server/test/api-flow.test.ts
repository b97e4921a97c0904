import type { ImapferryClient } from "@imapferry/sdk";
import { createClient, TRPCClientError } from "@imapferry/sdk";
import type { ImapPair } from "@imapferry/testkit";
import { seedMailbox, startImapPair } from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { ResponseRecorder, startApiTestServer } from "./api-harness.ts";

const SOURCE_PASSWORD = "src-Secret-4711!";
const DEST_PASSWORD = "dst-Secret-0815?";

function message(i: number): string {
  return [
    `From: Sender ${i} <sender${i}@example.org>`,
    "To: alice@example.com",
    `Subject: Message number ${i}`,
    `Message-ID: <msg-${i}@example.org>`,
    `Date: Mon, 02 Nov 2026 10:${String(i % 60).padStart(2, "0")}:00 +0000`,
    "",
    `Body of message ${i}. ${"lorem ipsum ".repeat(20)}`,
    "",
  ].join("\r\n");
}

async function collect(iterable: AsyncIterable<string>): Promise<string> {
  let text = "";
  for await (const piece of iterable) text += piece;
  return text;
}

describe("the API through the SDK, against a running server", () => {
  let server: ApiTestServer;
  let imap: ImapPair;
  let recorder: ResponseRecorder;
  let client: ImapferryClient;
  let token: string;
  let sourceServerId: number;
  let destServerId: number;
  const mailboxes = ["alice@example.com", "bob@example.com"];

  beforeAll(async () => {
    [server, imap] = await Promise.all([startApiTestServer(), startImapPair()]);
    recorder = new ResponseRecorder();
    for (const [n, user] of mailboxes.entries()) {
      await imap.source.addUser(user, SOURCE_PASSWORD);
      await imap.destination.addUser(user, DEST_PASSWORD);
      const count = n === 0 ? 60 : 10;
      await seedMailbox(imap.source, user, SOURCE_PASSWORD, {
        folders: [
          { path: "INBOX", messages: Array.from({ length: count }, (_, i) => ({ source: message(i) })) },
        ],
      });
    }
  });

  afterAll(async () => {
    await server?.stop();
    await imap?.stop();
  });

  it("logs in with the generated admin password and creates an API token shown once", async () => {
    let cookie = "";
    const cookieFetch = async (input: string | URL | Request, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      if (cookie) headers.set("cookie", cookie);
      const response = await recorder.fetch(input, { ...init, headers });
      const setCookie = response.headers.get("set-cookie");
      if (setCookie) cookie = setCookie.split(";")[0] ?? "";
      return response;
    };
    const panel = createClient({ url: server.url, fetch: cookieFetch });
    const me = await panel.auth.login.mutate({ username: "admin", password: server.adminPassword });
    expect(me).toEqual({
      id: expect.any(Number),
      username: "admin",
      method: "session",
      role: "admin",
      tenant: null,
    });
    expect(cookie).toMatch(/^imapferry_session=/);
    const created = await panel.tokens.create.mutate({ name: "control panel" });
    token = created.token;
    expect(token).toMatch(/^imf_/);
    expect(created.apiToken.prefix).toBe(token.slice(0, created.apiToken.prefix.length));
    const listed = await panel.tokens.list.query();
    expect(JSON.stringify(listed)).not.toContain(token);
    expect(listed.map((t) => t.name)).toEqual(["control panel"]);

    client = createClient({ url: server.url, token, fetch: recorder.fetch });
    expect(await client.auth.me.query()).toMatchObject({ username: "admin", method: "token" });
    await panel.auth.logout.mutate();
    await expect(panel.auth.me.query()).rejects.toMatchObject({ data: { code: "UNAUTHORIZED" } });
  });

  it("creates servers and tests a connection (a wrong password is told apart)", async () => {
    const source = await client.servers.create.mutate({
      name: "old provider",
      host: "127.0.0.1",
      port: imap.source.port,
      security: "none",
    });
    const dest = await client.servers.create.mutate({
      name: "new provider",
      host: "127.0.0.1",
      port: imap.destination.tlsPort,
      security: "tls",
      acceptSelfSigned: true,
    });
    sourceServerId = source.id;
    destServerId = dest.id;
    expect(typeof source.createdAt).toBe("string");
    expect((await client.servers.list.query()).map((s) => s.name).sort()).toEqual([
      "new provider",
      "old provider",
    ]);

    const ok = await client.servers.test.mutate({
      id: dest.id,
      email: "alice@example.com",
      password: DEST_PASSWORD,
    });
    expect(ok).toMatchObject({ ok: true, authenticated: true });
    const wrong = await client.servers.test.mutate({
      id: dest.id,
      email: "alice@example.com",
      password: "wrong-password",
    });
    expect(wrong).toMatchObject({ ok: false, category: "auth" });

    const bad = await client.servers.create
      .mutate({ name: "x", host: "127.0.0.1", port: 70000 })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(TRPCClientError);
    expect((bad as TRPCClientError<never>).data).toMatchObject({
      code: "BAD_REQUEST",
      problems: [expect.objectContaining({ path: ["port"] })],
    });
  });

  it("previews and imports a CSV batch as a dry run, then bulk-reruns it for real and follows a log live", async () => {
    const csv = [
      "name,sourceServerId,sourceEmail,sourcePassword,destServerId,destEmail,destPassword",
      ...mailboxes.map(
        (m) => `${m},${sourceServerId},${m},${SOURCE_PASSWORD},${destServerId},${m},${DEST_PASSWORD}`,
      ),
    ].join("\n");
    const preview = await client.importBatch(csv, { preview: true, tag: "wave-1" });
    expect(preview).toMatchObject({ ok: true, rowCount: 2, errors: [] });

    const broken = await client.importBatch(`${csv}\nbroken,row`, { preview: true, tag: "wave-1" });
    expect(broken.ok).toBe(false);
    expect(broken.errors[0]).toMatchObject({ line: 4 });

    const imported = await client.importBatch(csv, { tag: "wave-1", dryRun: true });
    expect(imported.jobCount).toBe(2);
    const progress: number[] = [];
    const dry = await client.waitForBatch("wave-1", { onProgress: (b) => progress.push(b.counts.done) });
    expect(dry.counts).toMatchObject({ done: 2, failed: 0, queued: 0, running: 0 });
    expect(progress.at(-1)).toBe(2);

    const events: string[] = [];
    const watching = new AbortController();
    const watched = (async () => {
      for await (const event of client.watchJobs({ batch: "wave-1", signal: watching.signal })) {
        if (event.type === "job") events.push(`${event.jobId}:${event.status}`);
      }
    })();

    const rerun = await client.jobs.bulk.mutate({
      action: "rerun",
      batchId: imported.batch.id,
      dryRun: false,
    });
    expect(rerun).toMatchObject({ action: "rerun", succeeded: 2, failed: 0 });
    const aliceJobId = rerun.results.find((r) => r.ok && r.newJobId)?.newJobId;
    expect(aliceJobId).toBeTypeOf("number");
    const alice = await client.jobs.get.query({ id: aliceJobId! });
    expect(alice.dryRun).toBe(false);

    const streamed = await collect(client.followLogs(alice.id));
    const finished = await client.jobs.get.query({ id: alice.id });
    expect(["done", "failed"]).toContain(finished.status);
    expect(streamed.length).toBeGreaterThan(0);
    expect(Buffer.byteLength(streamed)).toBe(finished.logBytes);

    const download = await client.downloadLog(alice.id);
    expect(download.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(download.headers.get("content-disposition")).toMatch(
      /^attachment; filename="job-\d+-[A-Za-z0-9._-]+\.log"$/,
    );
    const downloaded = await download.text();
    expect(downloaded).toBe(streamed);

    const final = await client.waitForBatch(imported.batch.id);
    expect(final.counts.queued + final.counts.running).toBe(0);
    watching.abort();
    await watched;
    expect(events).toContain(`${alice.id}:running`);
  });

  it("follows a log across a server restart with no missing and no repeated byte", async () => {
    const job = await client.jobs.create.mutate({
      name: "slow alice",
      sourceServerId,
      sourceEmail: "alice@example.com",
      sourcePassword: SOURCE_PASSWORD,
      destServerId,
      destEmail: "alice@example.com",
      destPassword: DEST_PASSWORD,
      dryRun: true,
      options: { maxMessagesPerSecond: 15 },
    });
    let restarted = false;
    let statusAtRestart = "";
    let text = "";
    for await (const piece of client.followLogs(job.id)) {
      text += piece;
      if (!restarted) {
        restarted = true;
        await server.restartHttp();
        const row = await server.ctx.db
          .selectFrom("jobs")
          .select("status")
          .where("id", "=", job.id)
          .executeTakeFirstOrThrow();
        statusAtRestart = row.status;
        if (row.status === "running") {
          const conflict = await client.jobs.update
            .mutate({ id: job.id, name: "renamed" })
            .catch((e: unknown) => e);
          expect((conflict as TRPCClientError<never>).data).toMatchObject({
            code: "CONFLICT",
            httpStatus: 409,
          });
        }
      }
    }
    expect(restarted).toBe(true);
    // The restart really happened while the migration was writing its log.
    expect(statusAtRestart).toBe("running");
    const finished = await client.jobs.get.query({ id: job.id });
    expect(["done", "failed"]).toContain(finished.status);
    const download = await (await client.downloadLog(job.id)).text();
    expect(text).toBe(download);
  });

  it("lists workers and changes only the settings sent, with the field at fault on bad input", async () => {
    const workers = await client.workers.list.query();
    expect(workers.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(workers)).not.toMatch(/"[a-zA-Z]*At":\{/);

    const before = await client.settings.get.query();
    const after = await client.settings.update.mutate({ notificationRecipients: ["ops@example.com"] });
    expect(after.notificationRecipients).toEqual(["ops@example.com"]);
    expect(after.workerConcurrency).toBe(before.workerConcurrency);
    const bad = await client.settings.update
      .mutate({ notificationRecipients: ["not an address"] })
      .catch((e: unknown) => e);
    expect((bad as TRPCClientError<never>).data).toMatchObject({
      code: "BAD_REQUEST",
      problems: [expect.objectContaining({ path: ["notificationRecipients", 0] })],
    });
    expect((await client.settings.get.query()).notificationRecipients).toEqual(["ops@example.com"]);
  });

  it("serves the health report, the CSV template and the panel, with security headers everywhere", async () => {
    const health = await fetch(`${server.url}/healthz`, { headers: { authorization: `Bearer ${token}` } });
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: "ok",
      database: "ok",
      workers: 1,
      databaseDetail: { problem: null },
      engine: { kind: "builtin" },
      notifications: { configured: false, detail: expect.stringContaining("SMTP is not configured") },
    });
    for (const response of [
      health,
      await fetch(`${server.url}/jobs/42`),
      await fetch(`${server.url}/trpc/auth.me`),
    ]) {
      expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("referrer-policy")).toBe("no-referrer");
      expect(response.headers.get("x-frame-options")).toBe("DENY");
    }
    const spa = await fetch(`${server.url}/jobs/42`);
    expect(await spa.text()).toContain("<div id=app>");
    expect((await fetch(`${server.url}/assets/missing.js`)).status).toBe(404);

    expect((await fetch(`${server.url}/api/batches/template.csv`)).status).toBe(401);
    const template = await fetch(`${server.url}/api/batches/template.csv`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(template.status).toBe(200);
    expect(await template.text()).toMatch(/^.*sourceEmail.*destPassword/);
    expect((await fetch(`${server.url}/api/jobs/1/log`)).status).toBe(401);
  });

  it("never returns a password in any response", () => {
    expect(recorder.bodies.length).toBeGreaterThan(20);
    for (const secret of [SOURCE_PASSWORD, DEST_PASSWORD, server.adminPassword]) {
      expect(recorder.containing(secret)).toEqual([]);
    }
  });
});
