import { createSign } from "node:crypto";
import { ImapFlow } from "imapflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ImapServer,
  type OAuth2TokenServer,
  startImapServer,
  startOAuth2TokenServer,
} from "../src/index.ts";

async function post(
  url: string,
  form: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: "POST", body: new URLSearchParams(form) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Logs in with a bearer token; true when Dovecot let the login in. */
async function tokenLogin(server: ImapServer, user: string, accessToken: string): Promise<boolean> {
  const imap = new ImapFlow({
    ...server.imapflowOptions({ user, password: "" }),
    auth: { user, accessToken },
  });
  imap.on("error", () => {});
  try {
    await imap.connect();
    await imap.logout();
    return true;
  } catch {
    imap.close();
    return false;
  }
}

describe("the OAuth2 token server and Dovecot's oauth2 passdb", () => {
  let tokens: OAuth2TokenServer;
  let imap: ImapServer;
  beforeAll(async () => {
    tokens = await startOAuth2TokenServer();
    imap = await startImapServer({ name: "oauth", oauth2IntrospectionUrl: tokens.introspectionUrl });
    await imap.addUser("alice@example.com", "alice-secret");
  });
  afterAll(async () => {
    await imap?.stop();
    await tokens?.stop();
  });

  it("lets a live refresh-token access token in, keeps passwords working, and refuses an unknown token", async () => {
    const refreshToken = tokens.addRefreshToken("alice@example.com", {
      clientId: "panel",
      clientSecret: "s",
    });
    const answer = await post(tokens.tokenUrl, {
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: "panel",
      client_secret: "s",
    });
    expect(answer.status).toBe(200);
    expect(await tokenLogin(imap, "alice@example.com", String(answer.body.access_token))).toBe(true);
    expect(await tokenLogin(imap, "alice@example.com", "at-made-up")).toBe(false);
    const byPassword = new ImapFlow(
      imap.imapflowOptions({ user: "alice@example.com", password: "alice-secret" }),
    );
    await byPassword.connect();
    await byPassword.logout();
  });

  it("issues a token for a signed JWT and refuses one signed with another key", async () => {
    const key = tokens.addServiceAccount();
    const other = tokens.addServiceAccount();
    const jwt = (privateKey: string) => {
      const now = Math.floor(Date.now() / 1000);
      const enc = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
      const input = `${enc({ alg: "RS256", typ: "JWT" })}.${enc({ iss: key.client_email, sub: "alice@example.com", scope: "https://mail.google.com/", aud: tokens.tokenUrl, iat: now, exp: now + 3600 })}`;
      return `${input}.${createSign("RSA-SHA256").update(input).sign(privateKey).toString("base64url")}`;
    };
    const grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    const good = await post(tokens.tokenUrl, { grant_type: grant, assertion: jwt(key.private_key) });
    expect(good.status).toBe(200);
    expect(await tokenLogin(imap, "alice@example.com", String(good.body.access_token))).toBe(true);
    const forged = await post(tokens.tokenUrl, { grant_type: grant, assertion: jwt(other.private_key) });
    expect(forged.body.error).toBe("invalid_grant");
  });

  it("refuses a token once its lifetime is over", async () => {
    tokens.addApp({
      tenantId: "contoso.onmicrosoft.com",
      clientId: "app-1",
      clientSecret: "app-secret",
      mailbox: "alice@example.com",
    });
    tokens.tokenLifetimeSeconds = 2;
    try {
      const answer = await post(tokens.microsoftTokenUrl("contoso.onmicrosoft.com"), {
        grant_type: "client_credentials",
        client_id: "app-1",
        client_secret: "app-secret",
        scope: "https://outlook.office365.com/.default",
      });
      const token = String(answer.body.access_token);
      const expiresAt = tokens.issued.find((t) => t.token === token)?.expiresAt ?? 0;
      expect(await tokenLogin(imap, "alice@example.com", token)).toBe(true);
      while (Date.now() <= expiresAt)
        await new Promise((resolve) => setTimeout(resolve, expiresAt - Date.now() + 1));
      expect(await tokenLogin(imap, "alice@example.com", token)).toBe(false);
    } finally {
      tokens.tokenLifetimeSeconds = 3600;
    }
  });
});
