import { createApiToken, revokeApiToken } from "@imapferry/core";
import { createClient, TRPCClientError } from "@imapferry/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter, PUBLIC_PROCEDURES } from "../src/router/index.ts";
import type { ApiTestServer } from "./api-harness.ts";
import { ResponseRecorder, startApiTestServer } from "./api-harness.ts";

type ProcedureType = "query" | "mutation" | "subscription";

/** Every procedure of the router, by path, read from the router itself (nothing can be forgotten). */
function allProcedures(): { path: string; type: ProcedureType }[] {
  // The flat map of every procedure by dotted path, as tRPC keeps it.
  const procedures = appRouter._def.procedures as unknown as Record<
    string,
    { _def: { type: ProcedureType } }
  >;
  return Object.entries(procedures).map(([path, procedure]) => ({ path, type: procedure._def.type }));
}

/** Calls a procedure by path through the SDK's client, the way an application would. */
async function callThroughSdk(client: object, path: string, type: ProcedureType): Promise<unknown> {
  let target: unknown = client;
  for (const segment of path.split(".")) target = (target as Record<string, unknown>)[segment];
  const procedure = target as {
    query(input: unknown): Promise<unknown>;
    mutate(input: unknown): Promise<unknown>;
    subscribe(input: unknown, options: { signal: AbortSignal }): AsyncIterable<unknown>;
  };
  // Any input: authentication is checked before the input is even validated.
  const input = { id: 1, jobId: 1 };
  if (type === "query") return procedure.query(input);
  if (type === "mutation") return procedure.mutate(input);
  const stop = new AbortController();
  try {
    for await (const event of procedure.subscribe(input, { signal: stop.signal })) return event;
    return undefined;
  } finally {
    stop.abort();
  }
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e: unknown) {
    return e;
  }
  return new Error("the call succeeded");
}

describe("authentication", () => {
  let server: ApiTestServer;
  let recorder: ResponseRecorder;
  let validToken: string;
  let revokedToken: string;

  beforeAll(async () => {
    server = await startApiTestServer({ loginRateLimits: { addressFailures: 8, userFailures: 3 } });
    recorder = new ResponseRecorder();
    const admin = await server.ctx.db.selectFrom("users").select("id").executeTakeFirstOrThrow();
    validToken = (await createApiToken(server.ctx, admin.id, { name: "valid" })).token;
    const revoked = await createApiToken(server.ctx, admin.id, { name: "revoked" });
    await revokeApiToken(server.ctx, admin.id, revoked.apiToken.id);
    revokedToken = revoked.token;
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("the router has the procedures the API promises, and only login is open", () => {
    const paths = allProcedures().map((p) => p.path);
    for (const expected of [
      "servers.list",
      "servers.create",
      "servers.update",
      "servers.delete",
      "servers.test",
      "jobs.list",
      "jobs.get",
      "jobs.create",
      "jobs.update",
      "jobs.cancel",
      "jobs.delete",
      "jobs.rerun",
      "jobs.bulk",
      "jobs.events",
      "batches.list",
      "batches.get",
      "batches.preview",
      "batches.import",
      "logs.tail",
      "workers.list",
      "settings.get",
      "settings.update",
      "auth.login",
      "auth.logout",
      "auth.me",
      "tokens.list",
      "tokens.create",
      "tokens.revoke",
    ]) {
      expect(paths).toContain(expected);
    }
    expect([...PUBLIC_PROCEDURES].sort()).toEqual(["auth.login"]);
  });

  const badCredentials: { name: string; token?: string; cookie?: string }[] = [
    { name: "no credentials" },
    { name: "a malformed token", token: "not-a-token" },
    { name: "an unknown token", token: "imf_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
    { name: "a revoked token", token: "(revoked)" },
    { name: "a forged session cookie", cookie: "imapferry_session=forged-session-id" },
  ];

  for (const credentials of badCredentials) {
    it(`rejects ${credentials.name} on every procedure but login`, async () => {
      const token = credentials.token === "(revoked)" ? revokedToken : credentials.token;
      const fetchWithCookie = async (input: string | URL | Request, init?: RequestInit) => {
        const headers = new Headers(init?.headers);
        if (credentials.cookie) headers.set("cookie", credentials.cookie);
        return recorder.fetch(input, { ...init, headers });
      };
      const client = createClient({ url: server.url, ...(token ? { token } : {}), fetch: fetchWithCookie });
      const procedures = allProcedures().filter(
        (p) => !(PUBLIC_PROCEDURES as readonly string[]).includes(p.path),
      );
      expect(procedures.length).toBeGreaterThan(25);
      for (const { path, type } of procedures) {
        const error = await errorOf(callThroughSdk(client, path, type));
        expect(error, path).toBeInstanceOf(TRPCClientError);
        expect((error as TRPCClientError<never>).data, path).toMatchObject({
          code: "UNAUTHORIZED",
          httpStatus: 401,
        });
      }
      for (const route of ["/api/jobs/1/log", "/api/batches/template.csv"]) {
        const response = await fetchWithCookie(`${server.url}${route}`, {
          headers: token ? { authorization: `Bearer ${token}` } : {},
        });
        expect(response.status, route).toBe(401);
      }
    });
  }

  it("accepts a valid token; /healthz tells a stranger only whether the service is up", async () => {
    const client = createClient({ url: server.url, token: validToken, fetch: recorder.fetch });
    expect(await client.auth.me.query()).toMatchObject({ username: "admin", method: "token" });
    const anonymous = createClient({ url: server.url, fetch: recorder.fetch });
    expect((await errorOf(anonymous.health.query())) as TRPCClientError<never>).toMatchObject({
      data: { code: "UNAUTHORIZED" },
    });
    expect(await client.health.query()).toMatchObject({ status: "ok", version: expect.any(String) });
    const publicHealth = await fetch(`${server.url}/healthz`);
    expect(publicHealth.status).toBe(200);
    // States and a count only: no version, host, engine or worker id.
    expect(await publicHealth.json()).toEqual({ status: "ok", database: "ok", workers: 1, degraded: false });
    // Plain http: no HSTS.
    expect(publicHealth.headers.get("strict-transport-security")).toBeNull();
    const detailed = await fetch(`${server.url}/healthz`, {
      headers: { authorization: `Bearer ${validToken}` },
    });
    expect(await detailed.json()).toMatchObject({ status: "ok", version: expect.any(String) });
  });

  it("limits login attempts per user and per address, with a clear TOO_MANY_REQUESTS", async () => {
    const anonymous = createClient({ url: server.url, fetch: recorder.fetch });
    for (let i = 0; i < 3; i++) {
      const error = await errorOf(anonymous.auth.login.mutate({ username: "admin", password: `wrong-${i}` }));
      expect((error as TRPCClientError<never>).data).toMatchObject({ code: "UNAUTHORIZED" });
      expect((error as Error).message).toBe("Wrong user name or password.");
    }
    // Even the right password waits now, from the address that was guessing: the limit is what stops
    // guessing (api-login-throttle.test.ts shows a clean address still gets in).
    const limited = await errorOf(
      anonymous.auth.login.mutate({ username: "admin", password: server.adminPassword }),
    );
    expect((limited as TRPCClientError<never>).data).toMatchObject({
      code: "TOO_MANY_REQUESTS",
      httpStatus: 429,
    });
    expect((limited as Error).message).toMatch(
      /^Too many failed logins for this user from your address\. Try again in \d+ seconds?\.$/,
    );

    // Per address: spraying other user names runs into the address limit.
    let lastError: unknown;
    for (let i = 0; i < 8; i++)
      lastError = await errorOf(anonymous.auth.login.mutate({ username: `user${i}`, password: "x" }));
    expect((lastError as TRPCClientError<never>).data).toMatchObject({ code: "TOO_MANY_REQUESTS" });
    expect((lastError as Error).message).toMatch(/from your address/);
  });

  it("never returns a token or a password in any response", () => {
    for (const secret of [validToken, revokedToken, server.adminPassword])
      expect(recorder.containing(secret)).toEqual([]);
  });
});
