import { createApiToken, createUser, resetPassword, revokeApiToken } from "@imapferry/core";
import { createClient } from "@imapferry/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";
import { errorOf } from "./support/client-error.ts";

/** An open jobs.events stream, read as raw SSE; `ended` settles when the server closes it. */
async function openStream(url: string, headers: Record<string, string>) {
  const response = await fetch(`${url}/trpc/jobs.events`, { headers });
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  const firstEvent = (async () => {
    while (!text.includes("resync")) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`the stream ended before its first event: ${text}`);
      text += decoder.decode(value, { stream: true });
    }
  })();
  await firstEvent;
  const ended = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text;
      text += decoder.decode(value, { stream: true });
    }
  })();
  return { ended, cancel: () => reader.cancel().catch(() => {}) };
}

/** Resolves with the stream's text when it ends, or rejects after `ms` (the stream stayed open). */
async function endsWithin(stream: { ended: Promise<string>; cancel(): Promise<unknown> }, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      stream.ended,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the stream was still open after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await stream.cancel();
  }
}

describe("tokens and sessions end when they should, and their streams with them", () => {
  let server: ApiTestServer;
  let opsId: number;
  let cookie: string;

  async function logIn(username: string, password: string): Promise<string> {
    const response = await fetch(`${server.url}/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password }),
    });
    expect(response.status).toBe(200);
    return (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  }

  beforeAll(async () => {
    server = await startApiTestServer();
    opsId = (await createUser(server.ctx, { username: "ops", password: "ops-password-1234" })).user.id;
    cookie = await logIn("admin", server.adminPassword);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("only an admin token creates tokens; a person can, with an expiry", async () => {
    const { token } = await createApiToken(server.ctx, opsId, { name: "script", role: "operate" });
    const byToken = createClient({ url: server.url, token });
    const refused = await errorOf(byToken.tokens.create.mutate({ name: "minted by a token" }));
    expect(refused?.data).toMatchObject({ code: "FORBIDDEN", httpStatus: 403 });
    expect(refused?.message).toBe(
      "Only an admin token can create API tokens. Create them in the panel (Tokens), logged in as a person, or with an admin token.",
    );
    expect(
      (await server.ctx.db.selectFrom("api_tokens").select("name").execute()).map((t) => t.name),
    ).toEqual(["script"]);

    const panel = createClient({
      url: server.url,
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), cookie } }),
    });
    const created = await panel.tokens.create.mutate({ name: "for a week", expiresInDays: 7 });
    const expiresIn = Date.parse(created.apiToken.expiresAt ?? "") - Date.now();
    expect(expiresIn).toBeGreaterThan(6.9 * 86_400_000);
    expect(expiresIn).toBeLessThan(7.1 * 86_400_000);
    const weekly = createClient({ url: server.url, token: created.token });
    expect(await weekly.auth.me.query()).toMatchObject({ username: "admin", method: "token" });
    // A week later:
    await server.ctx.db
      .updateTable("api_tokens")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", created.apiToken.id)
      .execute();
    expect((await errorOf(weekly.auth.me.query()))?.data).toMatchObject({ code: "UNAUTHORIZED" });
    const tooLong = await errorOf(panel.tokens.create.mutate({ name: "forever", expiresInDays: 100_000 }));
    expect(tooLong?.data).toMatchObject({ code: "BAD_REQUEST", problems: [{ path: ["expiresInDays"] }] });
  });

  it("a password reset revokes the user's tokens", async () => {
    const { token } = await createApiToken(server.ctx, opsId, { name: "before the reset" });
    const client = createClient({ url: server.url, token });
    expect(await client.auth.me.query()).toMatchObject({ username: "ops" });
    const reset = await resetPassword(server.ctx, { username: "ops", password: "new-ops-password-5678" });
    expect(reset.revokedTokens).toBeGreaterThanOrEqual(1);
    expect((await errorOf(client.auth.me.query()))?.data).toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("an open stream ends when its token is revoked", async () => {
    const created = await createApiToken(server.ctx, opsId, { name: "follower" });
    const stream = await openStream(server.url, { authorization: `Bearer ${created.token}` });
    await revokeApiToken(server.ctx, opsId, created.apiToken.id);
    await endsWithin(stream, 10_000);
  });

  it("an open stream ends when its session logs out, and when the password is reset", async () => {
    const session = await logIn("ops", "new-ops-password-5678");
    const stream = await openStream(server.url, { cookie: session });
    const logout = await fetch(`${server.url}/trpc/auth.logout`, {
      method: "POST",
      headers: { cookie: session, "content-type": "application/json" },
      body: "{}",
    });
    expect(logout.status).toBe(200);
    await endsWithin(stream, 10_000);

    const again = await logIn("ops", "new-ops-password-5678");
    const { token } = await createApiToken(server.ctx, opsId, { name: "until the reset" });
    const streams = [
      await openStream(server.url, { cookie: again }),
      await openStream(server.url, { authorization: `Bearer ${token}` }),
    ];
    await resetPassword(server.ctx, { username: "ops", password: "third-ops-password-9012" });
    for (const s of streams) await endsWithin(s, 10_000);
  });

  it("a stream of someone else is not ended by it", async () => {
    const stream = await openStream(server.url, { cookie });
    const { token, apiToken } = await createApiToken(server.ctx, opsId, { name: "unrelated" });
    expect(token).toBeTruthy();
    await revokeApiToken(server.ctx, opsId, apiToken.id);
    await expect(endsWithin(stream, 1500)).rejects.toThrow(/still open/);
  });
});
