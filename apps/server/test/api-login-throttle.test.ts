import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";

interface Answer {
  status: number;
  body: unknown;
}

describe("login throttling", () => {
  let server: ApiTestServer;

  /** One auth.login call as a browser behind the trusted proxy (127.0.0.1) would send it. */
  async function login(password: string, from: string, username = "admin"): Promise<Answer> {
    const response = await fetch(`${server.url}/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": from },
      body: JSON.stringify({ username, password }),
    });
    return { status: response.status, body: await response.json() };
  }

  beforeAll(async () => {
    server = await startApiTestServer({
      loginRateLimits: { addressFailures: 3, userFailures: 3 },
      trustedProxies: ["127.0.0.0/8"],
    });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("refuses a batch of logins without checking any of them", async () => {
    const passwords = Array.from({ length: 20 }, (_, i) => `guess-${i}`);
    const response = await fetch(
      `${server.url}/trpc/${passwords.map(() => "auth.login").join(",")}?batch=1`,
      {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": "198.51.100.7" },
        body: JSON.stringify(
          Object.fromEntries(passwords.map((password, i) => [i, { username: "admin", password }])),
        ),
      },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { message: "auth.login cannot be batched with other calls: send it on its own." },
    });
    // None of them counted: this address has its whole allowance left.
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await login(`wrong-${i}`, "198.51.100.7")).status);
    expect(answers).toEqual([401, 401, 401]);
  });

  it("counts concurrent guesses before their passwords are checked", async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => login(`concurrent-${i}`, "203.0.113.66", "carol")),
    );
    const checked = answers.filter((a) => a.status === 401).length;
    expect(checked).toBe(3);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(17);
  });

  it("a stranger's guesses do not lock the owner out of a clean address", async () => {
    // admin has had its free failures (first test); an address that has been guessing is held back…
    expect((await login(server.adminPassword, "203.0.113.66")).status).toBe(429);
    // …but the right password from an address that has not been guessing gets in.
    const owner = await login(server.adminPassword, "192.0.2.44");
    expect(owner.status).toBe(200);
    expect(owner.body).toMatchObject({ result: { data: { username: "admin", method: "session" } } });
  });

  it("X-Forwarded-For counts only from a trusted proxy", async () => {
    const direct = await startApiTestServer({ loginRateLimits: { addressFailures: 2, userFailures: 100 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${direct.url}/trpc/auth.login`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": `192.0.2.${i}` },
          body: JSON.stringify({ username: `nobody${i}`, password: "x" }),
        });
        statuses.push(response.status);
      }
      // Every forged address is the same peer: the third attempt waits.
      expect(statuses).toEqual([401, 401, 429]);
    } finally {
      await direct.stop();
    }
  });
});
