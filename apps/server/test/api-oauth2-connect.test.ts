import { createHash } from "node:crypto";
import type { ImapferryClient } from "@imapferry/sdk";
import { TRPCClientError } from "@imapferry/sdk";
import type { ImapPair, OAuth2TokenServer } from "@imapferry/testkit";
import {
  readMailbox,
  seedMailbox,
  standardMailboxSpec,
  startImapPair,
  startOAuth2TokenServer,
} from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { ResponseRecorder, startApiTestServer } from "./api-harness.ts";
import { adminSessionClient } from "./support/admin-client.ts";
import { waitForJobEnd } from "./support/wait-for.ts";

/*
 * "Connect with Google": the authorization code flow with PKCE against the test token server, as a
 * browser would walk it (consent page, redirect back to /oauth2/callback), then a job that takes the
 * connection and migrates through Dovecot's oauth2 passdb with the refresh token it got.
 */

const CONNECT_CLIENT = { clientId: "connect.apps.example", clientSecret: "Connect-Secret-7!" };

function unescapeHtml(text: string): string {
  return text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}

/** The owner at the provider: the consent page, Allow (or Deny) as `login`, then back to imapferry. */
async function signIn(authorizeUrl: string, login: string, decision: "allow" | "deny" = "allow") {
  const consent = await (await fetch(authorizeUrl)).text();
  const form = new URLSearchParams();
  for (const [, name, value] of consent.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(unescapeHtml(name ?? ""), unescapeHtml(value ?? ""));
  }
  form.set("login", login);
  form.set("decision", decision);
  const answer = await fetch(authorizeUrl, { method: "POST", body: form, redirect: "manual" });
  const callbackUrl = answer.headers.get("location") ?? "";
  const back = await fetch(callbackUrl);
  return { callbackUrl, status: back.status, html: await back.text() };
}

describe("Connect with Google (authorization code flow with PKCE)", () => {
  let server: ApiTestServer;
  let imap: ImapPair;
  let tokens: OAuth2TokenServer;
  let recorder: ResponseRecorder;
  let client: ImapferryClient;
  let gmailId: number;
  let destId: number;
  const secrets: string[] = [CONNECT_CLIENT.clientSecret];

  beforeAll(async () => {
    tokens = await startOAuth2TokenServer();
    tokens.events.on("issued", (issued) => {
      secrets.push(issued.token);
      if (issued.refreshToken) secrets.push(issued.refreshToken);
    });
    [server, imap] = await Promise.all([
      startApiTestServer(),
      startImapPair({ oauth2IntrospectionUrl: tokens.introspectionUrl }),
    ]);
    tokens.addClient({ ...CONNECT_CLIENT, redirectUri: `${server.url}/oauth2/callback` });
    recorder = new ResponseRecorder();
    client = await adminSessionClient(server, recorder);
    for (const user of ["carol", "dave"]) {
      await imap.source.addUser(user, `src-${user}-pw`);
      await imap.destination.addUser(user, `dst-${user}-pw`);
    }
    await seedMailbox(imap.source, "carol", "src-carol-pw", standardMailboxSpec());
    const gmail = await client.servers.create.mutate({
      name: "gmail",
      host: "127.0.0.1",
      port: imap.source.tlsPort,
      security: "tls",
      acceptSelfSigned: true,
      connect: {
        provider: "google",
        ...CONNECT_CLIENT,
        authorizeUrl: tokens.authorizeUrl,
        tokenUrl: tokens.tokenUrl,
      },
    });
    gmailId = gmail.id;
    destId = (
      await client.servers.create.mutate({
        name: "new",
        host: "127.0.0.1",
        port: imap.destination.port,
        security: "none",
      })
    ).id;
  });

  afterAll(async () => {
    await server?.stop();
    await imap?.stop();
    await tokens?.stop();
  });

  it("shows the server's connect client without its secret", async () => {
    const listed = (await client.servers.list.query()).find((s) => s.id === gmailId);
    expect(listed?.connect).toEqual({
      provider: "google",
      clientId: CONNECT_CLIENT.clientId,
      confidential: true,
      authorizeUrl: tokens.authorizeUrl,
      tokenUrl: tokens.tokenUrl,
    });
  });

  it("signs the owner in with PKCE, and a job takes the connection and migrates every message", async () => {
    const started = await client.oauth2.connect.start.mutate({ serverId: gmailId, loginHint: "carol" });
    const url = new URL(started.authorizeUrl);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: "code",
      client_id: CONNECT_CLIENT.clientId,
      redirect_uri: `${server.url}/oauth2/callback`,
      code_challenge_method: "S256",
      access_type: "offline",
      login_hint: "carol",
    });
    // The challenge is the S256 of the verifier imapferry keeps (encrypted) for the exchange.
    const row = await server.ctx.db
      .selectFrom("oauth2_connections")
      .select(["code_verifier", "state_hash"])
      .where("id", "=", started.id)
      .executeTakeFirstOrThrow();
    const verifier = server.ctx.vault.decrypt(row.code_verifier);
    expect(url.searchParams.get("code_challenge")).toBe(
      createHash("sha256").update(verifier).digest("base64url"),
    );
    expect(row.state_hash).not.toContain(url.searchParams.get("state"));
    expect(await client.oauth2.connect.get.query({ id: started.id })).toMatchObject({ status: "pending" });

    const back = await signIn(started.authorizeUrl, "carol");
    expect(back.status).toBe(200);
    expect(back.html).toContain("Connected as carol.");
    expect(await client.oauth2.connect.get.query({ id: started.id })).toMatchObject({
      status: "connected",
      account: "carol",
    });

    // The same answer again (a reload, or someone replaying the URL) completes nothing.
    const replay = await fetch(back.callbackUrl);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain("This sign-in was already completed.");

    const job = await client.jobs.create.mutate({
      sourceServerId: gmailId,
      sourceEmail: "carol",
      sourceConnectionId: started.id,
      destServerId: destId,
      destEmail: "carol",
      destPassword: "dst-carol-pw",
      dryRun: false,
    });
    expect(await waitForJobEnd(client, job.id)).toMatchObject({ status: "done" });
    const [source, destination] = await Promise.all([
      readMailbox(imap.source, "carol", "src-carol-pw"),
      readMailbox(imap.destination, "carol", "dst-carol-pw"),
    ]);
    expect(destination).toEqual(source);
    expect(tokens.issued.some((t) => t.grant === "refresh-token" && t.login === "carol")).toBe(true);
    expect(await client.oauth2.connect.get.query({ id: started.id })).toMatchObject({ status: "used" });

    // A connection opens one job side.
    const again = client.jobs.create.mutate({
      sourceServerId: gmailId,
      sourceEmail: "carol",
      sourceConnectionId: started.id,
      destServerId: destId,
      destEmail: "carol",
      destPassword: "dst-carol-pw",
    });
    await expect(again).rejects.toThrow(`Connection ${started.id} is already used by another job.`);
  });

  it("refuses a connection for another account than the side's login, and keeps it usable", async () => {
    const started = await client.oauth2.connect.start.mutate({ serverId: gmailId });
    await signIn(started.authorizeUrl, "dave");
    const wrongLogin = client.jobs.create.mutate({
      sourceServerId: gmailId,
      sourceEmail: "carol",
      sourceConnectionId: started.id,
      destServerId: destId,
      destEmail: "carol",
      destPassword: "dst-carol-pw",
    });
    await expect(wrongLogin).rejects.toThrow("The account connected is dave, but the login is carol");
    expect(await client.oauth2.connect.get.query({ id: started.id })).toMatchObject({ status: "connected" });
  });

  it("says why when the owner denies access, or the answer is not one imapferry asked for", async () => {
    const started = await client.oauth2.connect.start.mutate({ serverId: gmailId });
    const denied = await signIn(started.authorizeUrl, "carol", "deny");
    expect(denied.status).toBe(400);
    expect(denied.html).toContain("Access was not granted at Google (access_denied).");
    expect(await client.oauth2.connect.get.query({ id: started.id })).toMatchObject({ status: "failed" });

    const forged = await fetch(`${server.url}/oauth2/callback?state=made-up&code=code-x`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain("This sign-in is not one imapferry started.");
  });

  it("refuses to start on a server without a connect client, naming it", async () => {
    const error = await client.oauth2.connect.start.mutate({ serverId: destId }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as Error).message).toContain(
      'The server "new" has no OAuth client to connect mailboxes with',
    );
  });

  it("never sends the client secret, a refresh token or an access token to the client", () => {
    for (const secret of secrets) expect(recorder.containing(secret)).toEqual([]);
  });
});
