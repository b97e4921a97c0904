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
 * OAuth2 through the API as the SDK speaks it: a server holding a Google service account, a job with a
 * mailbox's refresh tokens, against real Dovecots whose oauth2 passdb asks the test token server, and
 * the built-in engine. No secret comes back in any response.
 */

const PANEL_CLIENT = { clientId: "panel.apps.example", clientSecret: "Panel-Secret-5!" };

describe("OAuth2 through the API", () => {
  let server: ApiTestServer;
  let imap: ImapPair;
  let tokens: OAuth2TokenServer;
  let recorder: ResponseRecorder;
  let client: ImapferryClient;
  const secrets: string[] = [PANEL_CLIENT.clientSecret];

  beforeAll(async () => {
    tokens = await startOAuth2TokenServer();
    tokens.events.on("issued", (issued) => secrets.push(issued.token));
    [server, imap] = await Promise.all([
      startApiTestServer(),
      startImapPair({ oauth2IntrospectionUrl: tokens.introspectionUrl }),
    ]);
    recorder = new ResponseRecorder();
    client = await adminSessionClient(server, recorder);
  });

  afterAll(async () => {
    await server?.stop();
    await imap?.stop();
    await tokens?.stop();
  });

  it("stores a service account showing only its mode, tests a login with a token, and migrates with refresh tokens", async () => {
    const key = tokens.addServiceAccount();
    secrets.push(key.private_key.split("\n")[1] ?? "missing");
    const workspace = await client.servers.create.mutate({
      name: "workspace",
      host: "127.0.0.1",
      port: imap.source.tlsPort,
      security: "tls",
      acceptSelfSigned: true,
      admin: {
        mode: "google-service-account",
        serviceAccountKey: JSON.stringify(key),
        tokenUrl: tokens.tokenUrl,
      },
    });
    expect(workspace.admin).toEqual({ mode: "google-service-account" });
    const listed = (await client.servers.list.query()).find((s) => s.id === workspace.id);
    expect(listed?.admin).toEqual({ mode: "google-service-account" });
    await imap.source.addUser("alice", "src-alice-pw");
    await imap.destination.addUser("alice", "dst-alice-pw");
    await seedMailbox(imap.source, "alice", "src-alice-pw", standardMailboxSpec());
    expect(await client.servers.test.mutate({ id: workspace.id, email: "alice" })).toMatchObject({
      ok: true,
      authenticated: true,
    });

    const dest = await client.servers.create.mutate({
      name: "new",
      host: "127.0.0.1",
      port: imap.destination.tlsPort,
      security: "tls",
      acceptSelfSigned: true,
    });
    const grant = (login: string) => {
      const refreshToken = tokens.addRefreshToken(login, PANEL_CLIENT);
      secrets.push(refreshToken);
      return { provider: "google" as const, refreshToken, ...PANEL_CLIENT, tokenUrl: tokens.tokenUrl };
    };
    const revoked = grant("alice");
    tokens.revokeRefreshToken(revoked.refreshToken);
    const refused = await client.jobs.create
      .mutate({
        sourceServerId: workspace.id,
        sourceEmail: "alice",
        destServerId: dest.id,
        destEmail: "alice",
        destOAuth2: revoked,
      })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TRPCClientError);
    expect((refused as TRPCClientError<never>).message).toBe(
      "Google refused the refresh token for alice: invalid_grant — the mailbox's authorization has expired or was revoked: connect the mailbox again.",
    );

    const job = await client.jobs.create.mutate({
      sourceServerId: workspace.id,
      sourceEmail: "alice",
      destServerId: dest.id,
      destEmail: "alice",
      destOAuth2: grant("alice"),
      dryRun: false,
    });
    const ended = await waitForJobEnd(client, job.id);
    expect(ended).toMatchObject({ status: "done", errorMessage: null });
    expect(await readMailbox(imap.destination, "alice", "dst-alice-pw")).toEqual(
      await readMailbox(imap.source, "alice", "src-alice-pw"),
    );
    expect(recorder.bodies.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(recorder.containing(secret)).toEqual([]);
  });
});
