import { createApiToken } from "@imapferry/core";
import { startTcpProxy, type TcpProxy } from "@imapferry/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { type ApiTestServer, startApiTestServer } from "./api-harness.ts";

/**
 * A generous bound on one /healthz answer, whatever the database does. The design is about a second
 * (an 800 ms probe deadline); the slack is for a loaded CI machine, not for the answer to hang.
 */
const ANSWER_BOUND_MS = 5000;

const servers: ApiTestServer[] = [];
const proxies: TcpProxy[] = [];

afterEach(async () => {
  // Thawed first: the API's connections go through the proxy and must close cleanly.
  for (const proxy of proxies) proxy.thaw();
  for (const server of servers.splice(0)) await server.stop();
  for (const proxy of proxies.splice(0)) await proxy.close();
});

async function start(options: Parameters<typeof startApiTestServer>[0] = {}): Promise<ApiTestServer> {
  const server = await startApiTestServer(options);
  servers.push(server);
  return server;
}

async function adminToken(server: ApiTestServer): Promise<string> {
  const admin = await server.ctx.db.selectFrom("users").select("id").executeTakeFirstOrThrow();
  return (await createApiToken(server.ctx, admin.id, { name: "health" })).token;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  ms: number;
}

async function healthz(server: ApiTestServer, token?: string): Promise<Answer> {
  const began = performance.now();
  const response = await fetch(`${server.url}/healthz`, {
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body, ms: performance.now() - began };
}

/** Asks until `accept` holds, checking that every answer on the way came within the bound. */
async function healthzUntil(
  server: ApiTestServer,
  accept: (answer: Answer) => boolean,
  token?: string,
): Promise<{ answer: Answer; slowestMs: number }> {
  const deadline = Date.now() + 30_000;
  let slowestMs = 0;
  for (;;) {
    const answer = await healthz(server, token);
    slowestMs = Math.max(slowestMs, answer.ms);
    expect(answer.ms).toBeLessThan(ANSWER_BOUND_MS);
    if (accept(answer)) return { answer, slowestMs };
    if (Date.now() > deadline)
      throw new Error(`/healthz never answered as expected; last: ${JSON.stringify(answer)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("/healthz", () => {
  it("says ok with a live worker, and tells a stranger only states and a count", async () => {
    const server = await start();
    const { answer } = await healthzUntil(server, (a) => a.body.workers === 1);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: "ok", database: "ok", workers: 1, degraded: false });

    const detailed = await healthz(server, await adminToken(server));
    expect(detailed.status).toBe(200);
    expect(detailed.body).toMatchObject({
      status: "ok",
      database: "ok",
      workers: 1,
      degraded: false,
      reasons: [],
      version: expect.any(String),
      workerPools: [{ pool: null, alive: 1 }],
      databaseDetail: { kind: "external", problem: null, latencyMs: expect.any(Number) },
    });
  });

  it("is degraded (still 200) with no live worker: the API serves, queued migrations wait", async () => {
    const server = await start({ worker: false });
    const answer = await healthz(server);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: "degraded", database: "ok", workers: 0, degraded: true });
    const detailed = await healthz(server, await adminToken(server));
    expect(detailed.body).toMatchObject({
      status: "degraded",
      reasons: [expect.stringContaining("No worker is alive")],
    });
  });

  it("answers 503 'database unreachable' within about a second while the database hangs", async () => {
    const server = await start({
      worker: false,
      async connectThrough(connectionString) {
        const url = new URL(connectionString);
        const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
        proxies.push(proxy);
        url.hostname = "127.0.0.1";
        url.port = String(proxy.port);
        return url.toString();
      },
    });
    const token = await adminToken(server);
    expect((await healthz(server)).body).toMatchObject({ database: "ok" });

    proxies[0]!.freeze();
    const { answer, slowestMs } = await healthzUntil(server, (a) => a.status === 503);
    expect(answer.body).toEqual({ status: "down", database: "unreachable", workers: null, degraded: true });
    // Measured, not asserted tightly: the probe's deadline is 800 ms.
    console.info(`/healthz with a frozen database: slowest answer ${Math.round(slowestMs)} ms`);
    // Again, now that no probe is fresh: each answer waits for its own deadline, not the hung one's.
    for (let i = 0; i < 3; i++) {
      const again = await healthz(server);
      expect(again.status).toBe(503);
      expect(again.ms).toBeLessThan(ANSWER_BOUND_MS);
    }
    // A caller with a token is not held up by the hung database either: it gets the public answer.
    const withToken = await healthz(server, token);
    expect(withToken.ms).toBeLessThan(ANSWER_BOUND_MS);
    expect(withToken.status).toBe(503);
    expect(withToken.body).toMatchObject({ status: "down", database: "unreachable" });

    proxies[0]!.thaw();
    const recovered = await healthzUntil(server, (a) => a.status === 200);
    expect(recovered.answer.body).toMatchObject({ database: "ok", workers: 0 });
  });
});
