import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";

describe("cross-site requests cannot use the panel's session", () => {
  let server: ApiTestServer;
  let cookie: string;

  async function loggedIn(): Promise<boolean> {
    const response = await fetch(`${server.url}/trpc/auth.me`, { headers: { cookie } });
    return response.status === 200;
  }

  async function logout(headers: Record<string, string>, body: string | FormData = "{}") {
    return fetch(`${server.url}/trpc/auth.logout`, { method: "POST", headers: { cookie, ...headers }, body });
  }

  beforeAll(async () => {
    server = await startApiTestServer();
    const response = await fetch(`${server.url}/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: server.adminPassword }),
    });
    cookie = (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    expect(await loggedIn()).toBe(true);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("a form post from another site (multipart) does not log the user out", async () => {
    const form = new FormData();
    form.set("x", "1");
    const response = await logout({ origin: "https://evil.example", "sec-fetch-site": "cross-site" }, form);
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({
      error: { message: "Send API calls as Content-Type: application/json." },
    });
    const plain = await logout({ "content-type": "text/plain" });
    expect(plain.status).toBe(415);
    expect(await loggedIn()).toBe(true);
  });

  it("a JSON request from another origin or site is refused", async () => {
    const attempts: Record<string, string>[] = [
      { "content-type": "application/json", origin: "https://evil.example" },
      { "content-type": "application/json", "sec-fetch-site": "cross-site" },
      { "content-type": "application/json", "sec-fetch-site": "same-site" },
    ];
    for (const headers of attempts) {
      const response = await logout(headers);
      expect(response.status, JSON.stringify(headers)).toBe(403);
    }
    expect(await loggedIn()).toBe(true);
  });

  it("the panel's own requests pass", async () => {
    const response = await logout({
      "content-type": "application/json",
      origin: server.url,
      "sec-fetch-site": "same-origin",
    });
    expect(response.status).toBe(200);
    expect(await loggedIn()).toBe(false);
  });
});
