import {
  appendLogChunk,
  createApiToken,
  createBatch,
  createJob,
  createServer,
  revokeApiToken,
} from "@imapferry/core";
import type { ApiTokenRole } from "@imapferry/db";
import type { ImapferryClient } from "@imapferry/sdk";
import { createClient, rowsToCsv } from "@imapferry/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";
import { errorOf } from "./support/client-error.ts";

// Hosting panels hold tokens bound to one customer (a tenant): such a token must see and change that
// tenant's jobs, batches, reports, logs and events only, and no role may do more than it was given.

/** A raw SSE response, read as text: `until` waits for what the test expects (or the end). */
function sseText(response: Response) {
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  return {
    async until(done: (text: string) => boolean): Promise<string> {
      while (!done(text)) {
        const next = await reader.read();
        if (next.done) break;
        text += decoder.decode(next.value, { stream: true });
      }
      return text;
    },
    close: () => reader.cancel().catch(() => {}),
  };
}

/** Reads a whole stream until `until` holds (or it ends), then closes it. */
async function readStream(response: Response, until: (text: string) => boolean): Promise<string> {
  const sse = sseText(response);
  try {
    return await sse.until(until);
  } finally {
    await sse.close();
  }
}

describe("tokens bound to a tenant, with a role", () => {
  let server: ApiTestServer;
  let adminId: number;
  let serverId: number;
  /** Per tenant: a batch tagged `<tenant>-wave`, a job in it (with a log) and a job outside it. */
  const tenants = {} as Record<"acme" | "globex", { batchId: number; jobId: number; loneJobId: number }>;
  let untenantedJobId: number;

  async function tokenFor(
    name: string,
    scope: { role: ApiTokenRole; tenant?: string; expiresInDays?: number },
  ): Promise<{ token: string; id: number; client: ImapferryClient }> {
    const created = await createApiToken(server.ctx, adminId, { name, ...scope });
    return {
      token: created.token,
      id: created.apiToken.id,
      client: createClient({ url: server.url, token: created.token }),
    };
  }

  async function newJob(extra: { batchId?: number; tenant?: string }): Promise<number> {
    const job = await createJob(server.ctx, {
      sourceServerId: serverId,
      sourceEmail: `user${Math.random().toString(36).slice(2, 8)}@old.example`,
      destServerId: serverId,
      destEmail: "same@new.example",
      ...extra,
    });
    return job.id;
  }

  const statusOf = async (id: number) =>
    (
      await server.ctx.db
        .selectFrom("jobs")
        .select(["status", "deleted_at"])
        .where("id", "=", id)
        .executeTakeFirstOrThrow()
    ).status;

  beforeAll(async () => {
    // No worker: every job stays queued, so what a test sees changed was changed by the API.
    server = await startApiTestServer({ worker: false });
    adminId = (await server.ctx.db.selectFrom("users").select("id").executeTakeFirstOrThrow()).id;
    serverId = (
      await createServer(server.ctx, {
        name: "hosting",
        host: "imap.invalid",
        admin: { mode: "login-separator", login: "master-login", password: "Master-Secret-77" },
      })
    ).id;
    for (const tenant of ["acme", "globex"] as const) {
      const batch = await createBatch(server.ctx, { tag: `${tenant}-wave`, tenant });
      const jobId = await newJob({ batchId: batch.id });
      await appendLogChunk(server.ctx.db, jobId, `${tenant} log line\n`);
      tenants[tenant] = { batchId: batch.id, jobId, loneJobId: await newJob({ tenant }) };
    }
    untenantedJobId = await newJob({});
  });

  afterAll(async () => {
    await server?.stop();
  });

  describe("a tenant's token does not see or change another tenant's jobs and batches", () => {
    type Call = (client: ImapferryClient) => Promise<unknown>;
    const globex = () => tenants.globex;
    type Case = { name: string; call: Call; code: string; message: RegExp };
    /** Another tenant's job or batch answers as one that does not exist, with the service's sentence. */
    const noJob = (name: string, call: Call): Case => ({
      name,
      call,
      code: "NOT_FOUND",
      message: /^There is no job \d+\.$/,
    });
    const noBatch = (name: string, call: Call): Case => ({
      name,
      call,
      code: "NOT_FOUND",
      message: /^There is no batch \d+\.$/,
    });
    const refused = (name: string, call: Call, message: RegExp): Case => ({
      name,
      call,
      code: "FORBIDDEN",
      message,
    });
    const cases: Case[] = [
      noJob("jobs.get", (c) => c.jobs.get.query({ id: globex().jobId })),
      noJob("jobs.get (no tenant)", (c) => c.jobs.get.query({ id: untenantedJobId })),
      noJob("jobs.previousRuns", (c) => c.jobs.previousRuns.query({ id: globex().jobId })),
      noJob("jobs.report", (c) => c.jobs.report.query({ id: globex().jobId })),
      noJob("jobs.update", (c) => c.jobs.update.mutate({ id: globex().jobId, name: "mine now" })),
      noJob("jobs.cancel", (c) => c.jobs.cancel.mutate({ id: globex().jobId })),
      noJob("jobs.resume", (c) => c.jobs.resume.mutate({ id: globex().jobId })),
      noJob("jobs.delete", (c) => c.jobs.delete.mutate({ id: globex().jobId, hard: true })),
      noJob("jobs.rerun", (c) => c.jobs.rerun.mutate({ id: globex().jobId })),
      noJob("jobs.bulk by ids", (c) =>
        c.jobs.bulk.mutate({ action: "cancel", ids: [tenants.acme.jobId, globex().jobId] }),
      ),
      noBatch("jobs.bulk by batch", (c) =>
        c.jobs.bulk.mutate({ action: "delete", batchId: globex().batchId }),
      ),
      refused(
        "jobs.list of another tenant",
        (c) => c.jobs.list.query({ tenant: "globex" }),
        /bound to tenant "acme"/,
      ),
      refused(
        "jobs.create in another tenant",
        (c) =>
          c.jobs.create.mutate({
            sourceServerId: serverId,
            sourceEmail: "x@old.example",
            destServerId: serverId,
            destEmail: "x@new.example",
            tenant: "globex",
          }),
        /bound to tenant "acme"/,
      ),
      noBatch("jobs.create in another tenant's batch", (c) =>
        c.jobs.create.mutate({
          sourceServerId: serverId,
          sourceEmail: "x@old.example",
          destServerId: serverId,
          destEmail: "x@new.example",
          batchId: globex().batchId,
        }),
      ),
      noBatch("batches.get by id", (c) => c.batches.get.query({ id: globex().batchId })),
      {
        name: "batches.get by tag",
        call: (c) => c.batches.get.query({ tag: "globex-wave" }),
        code: "NOT_FOUND",
        message: /^There is no batch tagged "globex-wave"\.$/,
      },
      refused(
        "batches.list of another tenant",
        (c) => c.batches.list.query({ tenant: "globex" }),
        /bound to tenant "acme"/,
      ),
      noBatch("batches.report", (c) => c.batches.report.query({ id: globex().batchId })),
      noBatch("batches.update", (c) => c.batches.update.mutate({ id: globex().batchId, options: {} })),
      noBatch("batches.plan.get", (c) => c.batches.plan.get.query({ batchId: globex().batchId })),
      noBatch("batches.plan.set", (c) =>
        c.batches.plan.set.mutate({ batchId: globex().batchId, intervalSeconds: 3600 }),
      ),
      noBatch("batches.plan.pause", (c) => c.batches.plan.pause.mutate({ batchId: globex().batchId })),
      noBatch("batches.plan.resume", (c) => c.batches.plan.resume.mutate({ batchId: globex().batchId })),
      noBatch("batches.plan.cutover", (c) => c.batches.plan.cutover.mutate({ batchId: globex().batchId })),
      noBatch("batches.rerunFailed", (c) => c.batches.rerunFailed.mutate({ id: globex().batchId })),
      noBatch("batches.runReal", (c) => c.batches.runReal.mutate({ id: globex().batchId })),
      refused(
        "batches.import into another tenant",
        (c) => c.batches.import.mutate({ csv: csvOfOneRow(), tenant: "globex" }),
        /bound to tenant "acme"/,
      ),
      refused(
        "batches.preview for another tenant",
        (c) => c.batches.preview.mutate({ csv: csvOfOneRow(), tenant: "globex" }),
        /bound to tenant "acme"/,
      ),
      refused(
        "servers.create",
        (c) => c.servers.create.mutate({ name: "mine", host: "imap.mine.example" }),
        /not bound to a tenant can change servers/,
      ),
      refused(
        "servers.update",
        (c) => c.servers.update.mutate({ id: serverId, name: "renamed" }),
        /not bound to a tenant can change servers/,
      ),
      refused(
        "servers.delete",
        (c) => c.servers.delete.mutate({ id: serverId }),
        /not bound to a tenant can change servers/,
      ),
      refused("settings.get", (c) => c.settings.get.query(), /cannot see the settings/),
      refused(
        "settings.update",
        (c) => c.settings.update.mutate({ tenantPools: { acme: "fast" } }),
        /can change settings/,
      ),
      refused("workers.list", (c) => c.workers.list.query(), /cannot see the settings or the workers/),
    ];

    function csvOfOneRow(): string {
      return rowsToCsv([
        {
          sourceServerId: serverId,
          sourceEmail: "new@old.example",
          destServerId: serverId,
          destEmail: "new@new.example",
        },
      ]);
    }

    it.each(cases)("$name: $code", async ({ call, code, message }) => {
      // An admin token of acme: the widest a tenant's token gets.
      const acme = await tokenFor("acme admin", { role: "admin", tenant: "acme" });
      const error = await errorOf(call(acme.client));
      expect(error?.data).toMatchObject({ code });
      expect(error?.message).toMatch(message);
    });

    it("after all of that, globex's jobs and batch are as they were", async () => {
      expect(await statusOf(tenants.globex.jobId)).toBe("queued");
      const batch = await server.ctx.db
        .selectFrom("batches")
        .select("tag")
        .where("id", "=", tenants.globex.batchId)
        .executeTakeFirstOrThrow();
      expect(batch.tag).toBe("globex-wave");
      const jobs = await server.ctx.db
        .selectFrom("jobs")
        .select(["name", "deleted_at"])
        .where("tenant", "=", "globex")
        .execute();
      expect(jobs).toHaveLength(2);
      expect(jobs.every((j) => j.deleted_at === null && j.name !== "mine now")).toBe(true);
      expect(await server.ctx.db.selectFrom("servers").select("name").execute()).toEqual([
        { name: "hosting" },
      ]);
    });
  });

  it("lists only its tenant's jobs, batches and tokens, and creates into its tenant", async () => {
    const acme = await tokenFor("acme operator", { role: "operate", tenant: "acme" });
    await tokenFor("globex operator", { role: "operate", tenant: "globex" });
    const listed = await acme.client.jobs.list.query({ includeSuperseded: true, limit: 500 });
    expect(listed.items.map((j) => j.id).sort()).toEqual([tenants.acme.jobId, tenants.acme.loneJobId].sort());
    expect((await acme.client.batches.list.query()).items.map((b) => b.tag)).toEqual(["acme-wave"]);
    const tokenTenants = new Set((await acme.client.tokens.list.query()).map((t) => t.tenant));
    expect([...tokenTenants]).toEqual(["acme"]);

    const job = await acme.client.jobs.create.mutate({
      sourceServerId: serverId,
      sourceEmail: "carol@old.example",
      destServerId: serverId,
      destEmail: "carol@new.example",
      batchId: tenants.acme.batchId,
    });
    expect(job.tenant).toBe("acme");
    const imported = await acme.client.batches.import.mutate({
      tag: "acme-second-wave",
      csv: rowsToCsv([
        {
          sourceServerId: serverId,
          sourceEmail: "dan@old.example",
          destServerId: serverId,
          destEmail: "dan@new.example",
        },
      ]),
    });
    const batch = await acme.client.batches.get.query({ tag: "acme-second-wave" });
    expect(batch.tenant).toBe("acme");
    expect(imported.jobCount).toBe(1);
    const importedJobs = await server.ctx.db
      .selectFrom("jobs")
      .select("tenant")
      .where("batch_id", "=", batch.id)
      .execute();
    expect(importedJobs).toEqual([{ tenant: "acme" }]);
    // And it changes its own jobs.
    expect((await acme.client.jobs.cancel.mutate({ id: job.id })).status).toBe("cancelled");
  });

  it("keeps a batch's jobs in the batch's tenant, whoever creates them", async () => {
    const admin = await tokenFor("admin without tenant", { role: "admin" });
    const error = await errorOf(
      admin.client.jobs.create.mutate({
        sourceServerId: serverId,
        sourceEmail: "mallory@old.example",
        destServerId: serverId,
        destEmail: "mallory@new.example",
        batchId: tenants.acme.batchId,
        tenant: "globex",
      }),
    );
    expect(error?.data).toMatchObject({ code: "BAD_REQUEST", problems: [{ path: ["tenant"] }] });
    expect(error?.message).toBe(`Batch ${tenants.acme.batchId} belongs to tenant "acme".`);
  });

  it("uses servers without seeing their admin login; a token without a tenant sees it", async () => {
    const acme = await tokenFor("acme reader", { role: "read", tenant: "acme" });
    const [seenByTenant] = await acme.client.servers.list.query();
    expect(seenByTenant).toMatchObject({ name: "hosting", admin: null, hasAdminCredentials: true });
    expect(JSON.stringify(seenByTenant)).not.toContain("master-login");
    const operator = await tokenFor("operator", { role: "operate" });
    const [seenByOperator] = await operator.client.servers.list.query();
    expect(seenByOperator?.admin).toMatchObject({ mode: "login-separator", login: "master-login" });
    expect(JSON.stringify(seenByOperator)).not.toContain("Master-Secret-77");
  });

  it("downloads only its tenant's logs and batch reports", async () => {
    const acme = await tokenFor("acme downloads", { role: "read", tenant: "acme" });
    const get = (path: string) =>
      fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${acme.token}` } });
    const own = await get(`/api/jobs/${tenants.acme.jobId}/log`);
    expect(own.status).toBe(200);
    expect(await own.text()).toBe("acme log line\n");
    const foreign = await get(`/api/jobs/${tenants.globex.jobId}/log`);
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toEqual({
      error: { code: "NOT_FOUND", message: `There is no job ${tenants.globex.jobId}.` },
    });
    const ownReport = await get(`/api/batches/${tenants.acme.batchId}/report.csv`);
    expect(ownReport.status).toBe(200);
    expect(await ownReport.text()).toContain("@old.example");
    const foreignReport = await get(`/api/batches/${tenants.globex.batchId}/report.csv`);
    expect(foreignReport.status).toBe(404);
    expect(await foreignReport.text()).not.toContain("@old.example");
  });

  it("follows only its tenant's logs and events", async () => {
    const acme = await tokenFor("acme streams", { role: "read", tenant: "acme" });
    const stream = (procedure: string, input?: unknown) =>
      fetch(
        `${server.url}/trpc/${procedure}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`,
        { headers: { authorization: `Bearer ${acme.token}` } },
      );
    const foreignTail = await readStream(await stream("logs.tail", { jobId: tenants.globex.jobId }), (t) =>
      t.includes("serialized-error"),
    );
    expect(foreignTail).toContain(`There is no job ${tenants.globex.jobId}.`);
    expect(foreignTail).not.toContain("globex log line");
    const ownTail = await readStream(await stream("logs.tail", { jobId: tenants.acme.jobId }), (t) =>
      t.includes("acme log line"),
    );
    expect(ownTail).toContain("acme log line");
    for (const input of [{ batchId: tenants.globex.batchId }, { jobIds: [tenants.globex.jobId] }]) {
      const refused = await readStream(await stream("jobs.events", input), (t) =>
        t.includes("serialized-error"),
      );
      expect(refused).toMatch(/There is no (batch|job) \d+\./);
    }

    // Unfiltered: globex's job changes first, then acme's; the stream tells only acme's.
    const events = sseText(await stream("jobs.events"));
    // The stream is live once it said "resync"; changes made before that could be missed.
    await events.until((t) => t.includes("resync"));
    const admin = await tokenFor("admin", { role: "admin" });
    await admin.client.jobs.cancel.mutate({ id: tenants.globex.loneJobId });
    await admin.client.jobs.cancel.mutate({ id: tenants.acme.loneJobId });
    const text = await events.until((t) => t.includes(`"jobId":${tenants.acme.loneJobId}`));
    await events.close();
    expect(text).toContain(`"jobId":${tenants.acme.loneJobId}`);
    expect(text).not.toContain(`"jobId":${tenants.globex.loneJobId}`);
  });

  it("a read token cannot change anything, and nothing changes", async () => {
    const reader = await tokenFor("reader", { role: "read" });
    const before = await statusOf(tenants.acme.jobId);
    const attempts = [
      reader.client.jobs.cancel.mutate({ id: tenants.acme.jobId }),
      reader.client.jobs.create.mutate({
        sourceServerId: serverId,
        sourceEmail: "eve@old.example",
        destServerId: serverId,
        destEmail: "eve@new.example",
      }),
      reader.client.batches.import.mutate({
        csv: rowsToCsv([
          {
            sourceServerId: serverId,
            sourceEmail: "f@old.example",
            destServerId: serverId,
            destEmail: "f@new.example",
          },
        ]),
      }),
      reader.client.servers.test.mutate({ id: serverId }),
      reader.client.tokens.create.mutate({ name: "wider", role: "read" }),
      reader.client.tokens.revoke.mutate({ id: reader.id }),
    ];
    for (const attempt of attempts) {
      const error = await errorOf(attempt);
      expect(error?.data).toMatchObject({ code: "FORBIDDEN", httpStatus: 403 });
      expect(error?.message).toBe("This API token is read-only: it can look, but not change anything.");
    }
    expect(await statusOf(tenants.acme.jobId)).toBe(before);
    expect(
      await server.ctx.db
        .selectFrom("jobs")
        .select("id")
        .where("source_email", "=", "eve@old.example")
        .execute(),
    ).toEqual([]);
    // Looking works.
    expect((await reader.client.jobs.get.query({ id: tenants.acme.jobId })).id).toBe(tenants.acme.jobId);
    expect(await reader.client.auth.me.query()).toMatchObject({
      method: "token",
      role: "read",
      tenant: null,
    });
  });

  it("an expired token gets 401 everywhere", async () => {
    const expiring = await tokenFor("expiring", { role: "admin", tenant: "acme", expiresInDays: 1 });
    await server.ctx.db
      .updateTable("api_tokens")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", expiring.id)
      .execute();
    const headers = { authorization: `Bearer ${expiring.token}` };
    for (const path of [
      "/trpc/auth.me",
      `/trpc/jobs.get?input=${encodeURIComponent(JSON.stringify({ id: tenants.acme.jobId }))}`,
      `/api/jobs/${tenants.acme.jobId}/log`,
      `/api/batches/${tenants.acme.batchId}/report.csv`,
    ]) {
      const response = await fetch(`${server.url}${path}`, { headers });
      expect({ path, status: response.status }).toEqual({ path, status: 401 });
    }
    const error = await errorOf(expiring.client.jobs.list.query());
    expect(error?.data).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
  });

  it("a token cannot create a token wider than itself", async () => {
    const operator = await tokenFor("acme operator 2", { role: "operate", tenant: "acme" });
    expect(
      (await errorOf(operator.client.tokens.create.mutate({ name: "x", role: "read" })))?.message,
    ).toMatch(/^Only an admin token can create API tokens\./);
    const acmeAdmin = await tokenFor("acme admin 2", { role: "admin", tenant: "acme", expiresInDays: 30 });
    const otherTenant = await errorOf(acmeAdmin.client.tokens.create.mutate({ name: "x", tenant: "globex" }));
    expect(otherTenant?.data).toMatchObject({ code: "FORBIDDEN" });
    expect(otherTenant?.message).toBe(
      'This token is bound to tenant "acme": the tokens it creates are bound to it too.',
    );
    const longer = await errorOf(acmeAdmin.client.tokens.create.mutate({ name: "x", expiresInDays: 60 }));
    expect(longer?.message).toMatch(/^This token expires on .*: the tokens it creates cannot outlive it\.$/);
    // Left out, the tenant and the expiry are the creator's.
    const narrower = await acmeAdmin.client.tokens.create.mutate({ name: "acme panel", role: "read" });
    const [creator] = (await acmeAdmin.client.tokens.list.query()).filter((t) => t.id === acmeAdmin.id);
    expect(narrower.apiToken).toMatchObject({ role: "read", tenant: "acme", expiresAt: creator?.expiresAt });
    const made = createClient({ url: server.url, token: narrower.token });
    expect(await made.auth.me.query()).toMatchObject({ role: "read", tenant: "acme" });

    // An admin token without a tenant may create any token, and revoke them; a tenant's admin token
    // cannot revoke another tenant's token.
    const admin = await tokenFor("admin 2", { role: "admin" });
    const globexToken = await admin.client.tokens.create.mutate({
      name: "globex panel",
      role: "operate",
      tenant: "globex",
    });
    const revokeForeign = await errorOf(
      acmeAdmin.client.tokens.revoke.mutate({ id: globexToken.apiToken.id }),
    );
    expect(revokeForeign?.data).toMatchObject({ code: "NOT_FOUND" });
    expect(
      (await acmeAdmin.client.tokens.revoke.mutate({ id: narrower.apiToken.id })).revokedAt,
    ).not.toBeNull();
    expect((await errorOf(made.auth.me.query()))?.data).toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("revoking a tenant's token ends its open stream", async () => {
    const acme = await tokenFor("acme follower", { role: "read", tenant: "acme" });
    const events = sseText(
      await fetch(`${server.url}/trpc/jobs.events`, { headers: { authorization: `Bearer ${acme.token}` } }),
    );
    expect(await events.until((t) => t.includes("resync"))).toContain('"type":"resync"');
    await revokeApiToken(server.ctx, adminId, acme.id);
    // Ends by itself (the reader sees its end); a stream left open would keep this test waiting.
    await events.until(() => false);
    await events.close();
  });
});
