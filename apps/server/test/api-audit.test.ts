import { createApiToken, createServer } from "@imapferry/core";
import { createClient, rowsToCsv } from "@imapferry/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";
import { errorOf } from "./support/client-error.ts";

// Every change is on record: who (a person or a token), what, when, from where and how it ended,
// append-only, readable by admins only, and never holding a secret.

const SECRETS = [
  "Source-Secret-pw1",
  "Dest-Secret-pw2",
  "Csv-Secret-pw3",
  "Admin-Master-pw4",
  "Wrong-Login-pw5",
];

describe("the audit log", () => {
  let server: ApiTestServer;
  let adminId: number;
  let serverId: number;
  let cookie: string;

  const allRows = async () => server.ctx.db.selectFrom("audit_events").selectAll().orderBy("id").execute();

  beforeAll(async () => {
    server = await startApiTestServer({ worker: false });
    adminId = (await server.ctx.db.selectFrom("users").select("id").executeTakeFirstOrThrow()).id;
    serverId = (await createServer(server.ctx, { name: "hosting", host: "imap.invalid" })).id;
    const wrong = await fetch(`${server.url}/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: "Wrong-Login-pw5" }),
    });
    expect(wrong.status).toBe(401);
    const login = await fetch(`${server.url}/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: server.adminPassword }),
    });
    cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("records who changed what, when, from where and how it ended, without a secret", async () => {
    const panel = createClient({
      url: server.url,
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), cookie } }),
    });
    const created = await panel.tokens.create.mutate({ name: "acme panel", role: "operate", tenant: "acme" });
    const acme = createClient({ url: server.url, token: created.token });
    const job = await acme.jobs.create.mutate({
      sourceServerId: serverId,
      sourceEmail: "alice@old.example",
      sourcePassword: "Source-Secret-pw1",
      destServerId: serverId,
      destEmail: "alice@new.example",
      destPassword: "Dest-Secret-pw2",
    });
    await acme.jobs.cancel.mutate({ id: job.id });
    await acme.batches.import.mutate({
      tag: "audited",
      csv: rowsToCsv([
        {
          sourceServerId: serverId,
          sourceEmail: "bob@old.example",
          sourcePassword: "Csv-Secret-pw3",
          destServerId: serverId,
          destEmail: "bob@new.example",
          destPassword: "Csv-Secret-pw3",
        },
      ]),
    });
    const refused = await errorOf(acme.servers.delete.mutate({ id: serverId }));
    expect(refused?.data).toMatchObject({ code: "FORBIDDEN" });
    await panel.servers.update.mutate({
      id: serverId,
      admin: { mode: "login-separator", login: "master", password: "Admin-Master-pw4" },
    });
    // Reads are not changes.
    await acme.jobs.get.query({ id: job.id });

    const log = (await panel.audit.list.query({ limit: 50 })).items.reverse();
    expect(
      log.map((e) => [e.action, e.method, e.username, e.outcome, e.targetType, e.targetId, e.tenant]),
    ).toEqual([
      ["auth.login", "anonymous", "admin", "UNAUTHORIZED", "user", null, null],
      ["auth.login", "anonymous", "admin", "ok", "user", adminId, null],
      ["tokens.create", "session", "admin", "ok", "token", created.apiToken.id, "acme"],
      ["jobs.create", "token", "admin", "ok", "job", job.id, "acme"],
      ["jobs.cancel", "token", "admin", "ok", "job", job.id, "acme"],
      ["batches.import", "token", "admin", "ok", "batch", expect.any(Number), "acme"],
      ["servers.delete", "token", "admin", "FORBIDDEN", "server", serverId, "acme"],
      ["servers.update", "session", "admin", "ok", "server", serverId, null],
    ]);
    expect(log.slice(0, 2).map((e) => e.userId)).toEqual([null, adminId]);
    const byToken = log.filter((e) => e.method === "token");
    expect(
      byToken.every((e) => e.tokenId === created.apiToken.id && e.tokenPrefix === created.apiToken.prefix),
    ).toBe(true);
    expect(byToken.every((e) => e.callerTenant === "acme")).toBe(true);
    expect(log.every((e) => e.ip !== null && Date.now() - Date.parse(e.at) < 600_000)).toBe(true);
    // What was changed is there; the passwords are only said to have been given.
    expect(log[3]?.details).toMatchObject({
      sourceEmail: "alice@old.example",
      redacted: ["sourcePassword", "destPassword"],
    });
    expect(log[5]?.details).toMatchObject({ tag: "audited", csvBytes: expect.any(Number) });
    expect(log[7]?.details).toMatchObject({ admin: { login: "master" }, redacted: ["admin.password"] });

    // No secret anywhere in the table: not the passwords, not the CSV's, not the new token.
    const stored = JSON.stringify(await allRows());
    for (const secret of [...SECRETS, created.token, server.adminPassword])
      expect(stored).not.toContain(secret);
  });

  it("filters by action, group, token, tenant and outcome", async () => {
    const { token } = await createApiToken(server.ctx, adminId, { name: "auditor", role: "admin" });
    const admin = createClient({ url: server.url, token });
    const actions = async (filter: Parameters<typeof admin.audit.list.query>[0]) =>
      (await admin.audit.list.query(filter)).items.map((e) => e.action);
    expect(await actions({ action: "jobs.cancel" })).toEqual(["jobs.cancel"]);
    expect(await actions({ action: "jobs." })).toEqual(["jobs.cancel", "jobs.create"]);
    expect(await actions({ outcome: "FORBIDDEN" })).toEqual(["servers.delete"]);
    expect(await actions({ tenant: "acme", action: "batches." })).toEqual(["batches.import"]);
    expect(await actions({ since: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
    const page = await admin.audit.list.query({ limit: 3 });
    const next = await admin.audit.list.query({ limit: 3, cursor: page.nextCursor ?? undefined });
    expect(new Set([...page.items, ...next.items].map((e) => e.id)).size).toBe(6);
    // Over REST too.
    const rest = await fetch(`${server.url}/api/v1/audit?action=jobs.cancel&limit=5`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(rest.status).toBe(200);
    expect(((await rest.json()) as { items: { action: string }[] }).items.map((e) => e.action)).toEqual([
      "jobs.cancel",
    ]);
  });

  it("is for admins only: operate tokens and tenants' admin tokens are refused", async () => {
    for (const scope of [
      { role: "operate" as const },
      { role: "read" as const },
      { role: "admin" as const, tenant: "acme" },
    ]) {
      const { token } = await createApiToken(server.ctx, adminId, { name: "not an auditor", ...scope });
      const error = await errorOf(createClient({ url: server.url, token }).audit.list.query());
      expect(error?.data).toMatchObject({ code: "FORBIDDEN" });
      expect(error?.message).toBe(
        "Only an admin (a person, or an admin token not bound to a tenant) can read the audit log.",
      );
    }
  });

  it("is append-only: the database refuses to change or delete a record", async () => {
    const before = await allRows();
    await expect(server.ctx.db.updateTable("audit_events").set({ outcome: "ok" }).execute()).rejects.toThrow(
      /append-only: UPDATE refused/,
    );
    await expect(server.ctx.db.deleteFrom("audit_events").execute()).rejects.toThrow(
      /append-only: DELETE refused/,
    );
    expect(await allRows()).toEqual(before);
  });
});
