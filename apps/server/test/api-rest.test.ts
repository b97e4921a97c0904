import { createApiToken, createServer } from "@imapferry/core";
import { rowsToCsv } from "@imapferry/sdk";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REST_ROUTES } from "../src/http/rest/routes.ts";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";

// A panel in any language speaks plain JSON over HTTP to /api/v1, described by /api/v1/openapi.json.

describe("the REST API under /api/v1", () => {
  let server: ApiTestServer;
  let adminId: number;
  let serverId: number;
  let token: string;

  /** A request as a PHP or Python panel sends it: a bearer token, JSON in, JSON out. */
  async function call(
    method: "GET" | "POST",
    path: string,
    options: { body?: unknown; token?: string | null } = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const bearer = options.token === undefined ? token : options.token;
    const response = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  beforeAll(async () => {
    // No worker: jobs stay queued, so each answer below is the API's alone.
    server = await startApiTestServer({ worker: false });
    adminId = (await server.ctx.db.selectFrom("users").select("id").executeTakeFirstOrThrow()).id;
    serverId = (await createServer(server.ctx, { name: "hosting", host: "imap.invalid" })).id;
    ({ token } = await createApiToken(server.ctx, adminId, { name: "php panel", role: "operate" }));
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("publishes an OpenAPI 3.1 document that a validator accepts, listing every route", async () => {
    const response = await fetch(`${server.url}/api/v1/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, object> };
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(
      [
        ...REST_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`),
        "GET /jobs/{id}/log",
        "GET /batches/{id}/report.csv",
      ].sort(),
    );
    // The request schemas are the procedures' own: what jobs.create requires, the document requires.
    const createJob = (
      document.paths["/jobs"] as {
        post: { requestBody: { content: Record<string, { schema: { required: string[] } }> } };
      }
    ).post;
    // A batch's engine options (checked by a refinement) are described by the engine options schema.
    const importBatch = (
      document.paths["/batches"] as {
        post: {
          requestBody: {
            content: Record<string, { schema: { properties: { options: { properties: object } } } }>;
          };
        };
      }
    ).post;
    expect(
      Object.keys(
        importBatch.requestBody.content["application/json"]?.schema.properties.options.properties ?? {},
      ),
    ).toContain("excludeFolders");
    expect(createJob.requestBody.content["application/json"]?.schema.required).toEqual(
      expect.arrayContaining(["sourceServerId", "sourceEmail", "destServerId", "destEmail"]),
    );
  });

  it("creates, lists, gets, cancels and reruns a job", async () => {
    const servers = await call("GET", "/servers");
    expect(servers.status).toBe(200);
    expect(servers.body).toEqual([expect.objectContaining({ id: serverId, name: "hosting" })]);

    const created = await call("POST", "/jobs", {
      body: {
        sourceServerId: serverId,
        sourceEmail: "alice@old.example",
        sourcePassword: "Alice-Old-pw1",
        destServerId: serverId,
        destEmail: "alice@new.example",
        destPassword: "Alice-New-pw1",
        tenant: "acme",
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: "queued",
      sourceEmail: "alice@old.example",
      tenant: "acme",
    });
    expect(JSON.stringify(created.body)).not.toContain("Alice-Old-pw1");
    const id = created.body.id as number;

    expect((await call("GET", `/jobs/${id}`)).body).toMatchObject({ id, status: "queued" });
    const listed = await call("GET", "/jobs?status=queued&status=running&tenant=acme&limit=5");
    expect(listed.status).toBe(200);
    expect((listed.body.items as { id: number }[]).map((j) => j.id)).toEqual([id]);
    expect((await call("GET", "/jobs?status=done")).body.items).toEqual([]);

    expect((await call("POST", `/jobs/${id}/cancel`)).body).toMatchObject({ id, status: "cancelled" });
    const rerun = await call("POST", `/jobs/${id}/rerun`, { body: { dryRun: false } });
    expect(rerun.status).toBe(201);
    expect(rerun.body).toMatchObject({ status: "queued", dryRun: false, rerunOf: id });
  });

  it("imports a batch and serves it, its report and its report CSV", async () => {
    const imported = await call("POST", "/batches", {
      body: {
        tag: "rest-wave",
        csv: rowsToCsv([
          {
            sourceServerId: serverId,
            sourceEmail: "bob@old.example",
            sourcePassword: "Bob-Old-pw1",
            destServerId: serverId,
            destEmail: "bob@new.example",
            destPassword: "Bob-New-pw1",
          },
        ]),
      },
    });
    expect(imported.status).toBe(201);
    expect(imported.body).toMatchObject({ jobCount: 1 });
    const batchId = (imported.body.batch as { id: number }).id;
    expect((await call("GET", `/batches/${batchId}`)).body).toMatchObject({ id: batchId, tag: "rest-wave" });
    expect((await call("GET", "/batches")).body.items).toEqual([expect.objectContaining({ id: batchId })]);
    const report = await call("GET", `/batches/${batchId}/report`);
    expect(report.status).toBe(200);
    expect(report.body.rows).toEqual([expect.objectContaining({ source: "bob@old.example" })]);
    const csv = await fetch(`${server.url}/api/v1/batches/${batchId}/report.csv`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(csv.status).toBe(200);
    expect(await csv.text()).toContain("bob@old.example");
  });

  it("answers errors as { error: { code, message, problems } } with their HTTP status", async () => {
    const anonymous = await call("GET", "/jobs", { token: null });
    expect(anonymous).toEqual({
      status: 401,
      body: {
        error: {
          code: "UNAUTHORIZED",
          message: "Log in, or send a valid API token as `Authorization: Bearer <token>`.",
        },
      },
    });
    const bad = await call("POST", "/jobs", { body: { sourceServerId: serverId, sourceEmail: "" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({
      code: "BAD_REQUEST",
      problems: expect.arrayContaining([expect.objectContaining({ path: ["destServerId"] })]),
    });
    const missing = await call("GET", "/jobs/999999");
    expect(missing).toEqual({
      status: 404,
      body: { error: { code: "NOT_FOUND", message: "There is no job 999999." } },
    });
    const notAnId = await call("GET", "/jobs/abc");
    expect(notAnId.status).toBe(400);
    expect(notAnId.body.error).toMatchObject({
      code: "BAD_REQUEST",
      problems: [expect.objectContaining({ path: ["id"] })],
    });
    const notJson = await fetch(`${server.url}/api/v1/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({
      error: { code: "BAD_REQUEST", message: "The body is not valid JSON." },
    });
  });

  it("refuses a forged browser request: a cookie's mutation must be JSON from the panel's origin", async () => {
    const login = await fetch(`${server.url}/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: server.adminPassword }),
    });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const job = await server.ctx.db.selectFrom("jobs").select("id").executeTakeFirstOrThrow();
    const formPost = await fetch(`${server.url}/api/v1/jobs/${job.id}/rerun`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: "dryRun=false",
    });
    expect(formPost.status).toBe(415);
    const otherSite = await fetch(`${server.url}/api/v1/jobs/${job.id}/rerun`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json", origin: "https://evil.example" },
      body: "{}",
    });
    expect(otherSite.status).toBe(403);
    const bodiless = await fetch(`${server.url}/api/v1/jobs/${job.id}/rerun`, {
      method: "POST",
      headers: { cookie },
    });
    expect(bodiless.status).toBe(415);
    // The panel itself may.
    const own = await fetch(`${server.url}/api/v1/jobs/${job.id}/rerun`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: "{}",
    });
    expect(own.status).toBe(201);
  });

  it("applies roles and tenants as /trpc does", async () => {
    const { token: reader } = await createApiToken(server.ctx, adminId, { name: "reader", role: "read" });
    const refused = await call("POST", "/jobs/1/cancel", { token: reader });
    expect(refused).toEqual({
      status: 403,
      body: {
        error: {
          code: "FORBIDDEN",
          message: "This API token is read-only: it can look, but not change anything.",
        },
      },
    });
    const { token: globex } = await createApiToken(server.ctx, adminId, {
      name: "globex",
      role: "operate",
      tenant: "globex",
    });
    expect((await call("GET", "/jobs", { token: globex })).body.items).toEqual([]);
    const acmeJob = await server.ctx.db
      .selectFrom("jobs")
      .select("id")
      .where("tenant", "=", "acme")
      .executeTakeFirstOrThrow();
    expect((await call("GET", `/jobs/${acmeJob.id}`, { token: globex })).status).toBe(404);
    expect((await call("GET", "/me", { token: globex })).body).toMatchObject({
      role: "operate",
      tenant: "globex",
    });
  });

  it("manages tokens: an admin token creates a narrower one and revokes it", async () => {
    const { token: admin } = await createApiToken(server.ctx, adminId, { name: "admin", role: "admin" });
    const created = await call("POST", "/tokens", {
      token: admin,
      body: { name: "customer panel", role: "read", tenant: "acme", expiresInDays: 30 },
    });
    expect(created.status).toBe(201);
    expect(created.body.apiToken).toMatchObject({ name: "customer panel", role: "read", tenant: "acme" });
    const newToken = created.body.token as string;
    expect((await call("GET", "/me", { token: newToken })).status).toBe(200);
    const listed = await call("GET", "/tokens", { token: admin });
    expect((listed.body as unknown as { name: string }[]).map((t) => t.name)).toContain("customer panel");
    const id = (created.body.apiToken as { id: number }).id;
    expect((await call("POST", `/tokens/${id}/revoke`, { token: admin })).status).toBe(200);
    expect((await call("GET", "/me", { token: newToken })).status).toBe(401);
  });
});
