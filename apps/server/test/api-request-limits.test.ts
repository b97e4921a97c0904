import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { createApiToken } from "@imapferry/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";

/**
 * A generous bound: /healthz answers in milliseconds on an idle machine, and the flood stalled it for
 * minutes (248 s on a loaded machine). A machine loaded by other work stays inside it.
 */
const HEALTHZ_BOUND_MS = 2000;
const FLOOD_SCRIPT = path.join(import.meta.dirname, "support/body-flood.mjs");

interface Answer {
  status: number;
  text: string;
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  return { status: response.status, text: await response.text() };
}

describe("request bodies are limited before they are parsed", () => {
  let server: ApiTestServer;
  let token: string;

  beforeAll(async () => {
    server = await startApiTestServer();
    const admin = await server.ctx.db.selectFrom("users").select("id").executeTakeFirstOrThrow();
    token = (await createApiToken(server.ctx, admin.id, { name: "limits" })).token;
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("/healthz stays fast while 38 MB bodies nested millions of levels deep are posted to auth.login", async () => {
    const attacker = spawn(
      process.execPath,
      [FLOOD_SCRIPT, `${server.url}/trpc/auth.login`, "19000000", "3"],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let output = "";
    attacker.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    let attacking = true;
    const settled = once(attacker, "exit").finally(() => {
      attacking = false;
    });
    const latencies: number[] = [];
    // Measure while the bodies arrive, and at least a few times even when they are refused at once.
    while (attacking || latencies.length < 5) {
      const began = performance.now();
      const response = await fetch(`${server.url}/healthz`);
      await response.text();
      latencies.push(performance.now() - began);
      expect(response.status).toBe(200);
    }
    await settled;
    // 413 at once; a connection the server closed before the whole body was sent is a refusal too.
    for (const status of JSON.parse(output) as string[]) expect(["413", "no answer"]).toContain(status);
    expect(Math.max(...latencies)).toBeLessThan(HEALTHZ_BOUND_MS);
  });

  it("an unauthenticated call gets a small body limit, CSV import included", async () => {
    const big = JSON.stringify({ username: "admin", password: "x".repeat(20_000) });
    const login = await post(`${server.url}/trpc/auth.login`, big);
    expect(login.status).toBe(413);
    expect(JSON.parse(login.text)).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });
    const csv = JSON.stringify({ csv: "a".repeat(100_000) });
    expect((await post(`${server.url}/trpc/batches.preview`, csv)).status).toBe(413);
  });

  it("only an authenticated CSV import or preview takes a large body", async () => {
    const auth = { authorization: `Bearer ${token}` };
    const line = "alice@example.com,pw,bob@example.com,pw\n";
    const csv = `source_email,source_password,dest_email,dest_password\n${line.repeat(50_000)}`;
    expect(csv.length).toBeGreaterThan(1024 * 1024);
    const preview = await post(`${server.url}/trpc/batches.preview`, JSON.stringify({ csv }), auth);
    expect(preview.status, preview.text.slice(0, 300)).not.toBe(413);
    const ids = JSON.stringify({ action: "cancel", ids: Array.from({ length: 300_000 }, (_, i) => i + 1) });
    expect((await post(`${server.url}/trpc/jobs.bulk`, ids, auth)).status).toBe(413);
    // A CSV call batched with another gets the ordinary limit.
    const batched = await post(
      `${server.url}/trpc/batches.preview,auth.me?batch=1`,
      JSON.stringify({ 0: { csv } }),
      auth,
    );
    expect(batched.status).toBe(413);
  });

  it("a body nested deeper than any input is refused with a sentence, before tRPC parses it", async () => {
    const nested = `${"[".repeat(200)}${"]".repeat(200)}`;
    const answer = await post(`${server.url}/trpc/auth.login`, `{"username":${nested},"password":"x"}`);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toMatchObject({
      error: {
        code: "BAD_REQUEST",
        message: expect.stringMatching(/nests arrays and objects more than 32 levels/),
      },
    });
    const query = await fetch(`${server.url}/trpc/jobs.list?input=${encodeURIComponent(nested)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(query.status).toBe(400);
    // Brackets inside strings are text, not nesting.
    const inString = await post(
      `${server.url}/trpc/auth.login`,
      JSON.stringify({ username: "[".repeat(90), password: '{\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[' }),
    );
    expect(inString.status).toBe(401);
  });
});
