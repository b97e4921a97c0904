import { existsSync } from "node:fs";
import type {
  GeneratedMailbox,
  ImapPair,
  ImapServer,
  OAuth2TokenServer,
  ServiceAccountKeyJson,
} from "@imapferry/testkit";
import {
  generateLargeMailbox,
  seedMailbox,
  standardMailboxSpec,
  startImapPair,
  startOAuth2TokenServer,
} from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testConnectionWithOAuth2 } from "../src/engines/oauth2-connection-test.ts";
import { resolveEngine } from "../src/engines/select-engine.ts";
import { ImapferryError } from "../src/errors.ts";
import { startWorker, type WorkerHandle } from "../src/queue/worker.ts";
import { importBatch, previewImport } from "../src/services/csv-import/csv-import.ts";
import { createJob, deleteJob, editJob, getJob, rerunJob } from "../src/services/jobs/index.ts";
import { readLog } from "../src/services/logs/logs.ts";
import { createServer, getServer, getServerForTest } from "../src/services/servers/servers.ts";
import { updateSettings } from "../src/services/settings/settings.ts";
import {
  capturingLogger,
  engineCases,
  expectSameMail,
  IMAPSYNC_BIN,
  startArgvRecordingWorker,
} from "./support/engine-worker.ts";
import { createJobTestContext, type JobTestContext, waitForJobStatus } from "./support/job-context.ts";

/*
 * OAuth2 logins against real Dovecots whose oauth2 passdb asks a real token server (testkit) whether a
 * token is live: a Google service account (JWT bearer per mailbox), a Microsoft 365 app (client
 * credentials) and a mailbox's own refresh token, through the worker and both engines. Tokens,
 * keys and secrets must never show in argv, the job log, the job view or the service log.
 */

const ENGINES = engineCases("jobs-oauth2");

const TENANT = "0b4a2c1e-6f3d-4e5a-9b8c-7d6e5f4a3b2c";
const CLIENT_SECRET = "App-client-secret-Zq9~x";
const PANEL_CLIENT = { clientId: "imapferry-panel.apps.example", clientSecret: "Panel-client-secret-77" };

const logged: string[] = [];

let t: JobTestContext;
let pair: ImapPair;
let tokens: OAuth2TokenServer;
let serviceAccount: ServiceAccountKeyJson;
let googleSource = 0;
let plainSource = 0;
let plainDest = 0;
/** Secrets this file handed out; none may show anywhere a person or another user can look. */
const secrets: string[] = [CLIENT_SECRET, PANEL_CLIENT.clientSecret];

function endpoint(server: ImapServer) {
  return { host: server.host, port: server.tlsPort, security: "tls" as const, acceptSelfSigned: true };
}

let guidCounter = 0;
function nextGuid(): string {
  guidCounter += 1;
  return `00000000-0000-4000-8000-${String(guidCounter).padStart(12, "0")}`;
}

/**
 * A destination server holding a Microsoft 365 app. The test token server's app tokens introspect as
 * one mailbox (Dovecot's oauth2 passdb insists on a username), so each mailbox gets its own app.
 */
async function microsoftDestination(mailbox: string): Promise<number> {
  const clientId = nextGuid();
  tokens.addApp({ tenantId: TENANT, clientId, clientSecret: CLIENT_SECRET, mailbox });
  const server = await createServer(t.ctx, {
    name: `m365 ${mailbox}`,
    ...endpoint(pair.destination),
    admin: {
      mode: "microsoft-app",
      tenantId: TENANT,
      clientId,
      clientSecret: CLIENT_SECRET,
      tokenUrl: tokens.microsoftTokenUrl(TENANT),
    },
  });
  return server.id;
}

beforeAll(async () => {
  t = await createJobTestContext({ log: capturingLogger(logged) });
  tokens = await startOAuth2TokenServer();
  tokens.events.on("issued", (issued) => secrets.push(issued.token));
  pair = await startImapPair({ oauth2IntrospectionUrl: tokens.introspectionUrl });
  serviceAccount = tokens.addServiceAccount();
  // The key's body: any of it in a log or a view would be a leak.
  secrets.push(serviceAccount.private_key.split("\n")[1] ?? "missing");
  googleSource = (
    await createServer(t.ctx, {
      name: "workspace",
      ...endpoint(pair.source),
      admin: {
        mode: "google-service-account",
        serviceAccountKey: JSON.stringify(serviceAccount),
        tokenUrl: tokens.tokenUrl,
      },
    })
  ).id;
  plainSource = (await createServer(t.ctx, { name: "plain source", ...endpoint(pair.source) })).id;
  plainDest = (await createServer(t.ctx, { name: "plain dest", ...endpoint(pair.destination) })).id;
  // A run whose token died resumes by itself, soon (see imapsync's case below).
  await updateSettings(t.ctx, { retryBaseSeconds: 1, retryCapSeconds: 2, retryMaxAttempts: 5 });
});

afterAll(async () => {
  await pair?.stop();
  await tokens?.stop();
  await t?.close();
});

/** A source user with `spec`'s mailbox and its empty destination user (passwords nobody hands out). */
async function mailboxes(name: string, generated?: GeneratedMailbox) {
  const source = await pair.source.addUser(name, `src-${name}-pw`);
  const dest = await pair.destination.addUser(name, `dst-${name}-pw`);
  if (generated) await pair.source.seedMaildir(source.user, generated);
  else await seedMailbox(pair.source, source.user, source.password, standardMailboxSpec());
  return { source, dest };
}

function refreshTokenFor(login: string) {
  const refreshToken = tokens.addRefreshToken(login, PANEL_CLIENT);
  secrets.push(refreshToken);
  return { provider: "google" as const, refreshToken, ...PANEL_CLIENT, tokenUrl: tokens.tokenUrl };
}

async function refusal(promise: Promise<unknown>): Promise<ImapferryError> {
  const error: unknown = await promise.then(
    () => new Error("expected a refusal"),
    (e: unknown) => e,
  );
  if (!(error instanceof ImapferryError)) throw new Error(`expected an ImapferryError, got ${String(error)}`);
  return error;
}

describe("OAuth2 server modes and delegated tokens", () => {
  it("let an edit swap a side's password for a refresh token and back, trying the token first", async () => {
    const job = await createJob(t.ctx, {
      sourceServerId: plainSource,
      sourceEmail: "edited@example.com",
      sourcePassword: "old-password",
      destServerId: plainDest,
      destEmail: "edited@example.com",
      destPassword: "pw",
    });
    const credentials = () =>
      t.ctx.db
        .selectFrom("jobs")
        .select(["source_secret", "source_oauth2"])
        .where("id", "=", job.id)
        .executeTakeFirstOrThrow();
    const revoked = refreshTokenFor("edited@example.com");
    tokens.revokeRefreshToken(revoked.refreshToken);
    const refused = await refusal(editJob(t.ctx, { id: job.id, sourceOAuth2: revoked }));
    expect(refused.problems[0]?.path).toEqual(["sourceOAuth2", "refreshToken"]);
    expect((await credentials()).source_oauth2).toBeNull();

    await editJob(t.ctx, { id: job.id, sourceOAuth2: refreshTokenFor("edited@example.com") });
    const swapped = await credentials();
    expect(swapped.source_secret).toBeNull();
    expect(swapped.source_oauth2).toMatch(/^v1:test:/);
    await editJob(t.ctx, { id: job.id, sourcePassword: "new-password" });
    const back = await credentials();
    expect(back.source_oauth2).toBeNull();
    expect(t.ctx.vault.decrypt(back.source_secret ?? "")).toBe("new-password");
    // Not for running: the engine suites below count every engine their worker starts.
    await deleteJob(t.ctx, { id: job.id, hard: true });
  });

  it("test a mailbox login with an access token from the server's service account, and name a refusal", async () => {
    const name = "tested@example.com";
    await pair.source.addUser(name, "unused-pw");
    const server = await getServerForTest(t.ctx, googleSource);
    if (!server.oauth2Grant) throw new Error("the server has no OAuth2 grant");
    const ok = await testConnectionWithOAuth2(server, name, server.oauth2Grant);
    expect(ok).toMatchObject({ ok: true, authenticated: true });
    const undelegated = tokens.addServiceAccount({ delegated: false });
    const refused = await testConnectionWithOAuth2(server, name, {
      kind: "google-service-account",
      key: { clientEmail: undelegated.client_email, privateKey: undelegated.private_key },
      tokenUrl: tokens.tokenUrl,
    });
    expect(refused).toEqual({
      ok: false,
      category: "oauth2",
      sentence: `Google refused the service account for ${name}: unauthorized_client — is domain-wide delegation granted to this service account for the scope https://mail.google.com/?`,
    });
  });

  it("read refresh tokens from CSV columns, naming the column of a row that lacks its client", async () => {
    const csv = [
      "sourceServerId,sourceEmail,sourcePassword,destServerId,destEmail,destPassword,sourceRefreshToken,sourceOAuth2Provider,sourceOAuth2ClientId",
      `plain source,csv-a@example.com,,plain dest,csv-a@example.com,pw,rt-something,google,`,
      `plain source,csv-b@example.com,pw,plain dest,csv-b@example.com,pw,rt-other,google,${PANEL_CLIENT.clientId}`,
    ].join("\r\n");
    const preview = await previewImport(t.ctx, { csv });
    expect(preview.errors).toEqual([
      {
        line: 2,
        column: "sourceOAuth2ClientId",
        reason: "Enter the OAuth client id the refresh token was issued to.",
      },
      {
        line: 2,
        column: "sourcePassword",
        reason: "The source server has no admin credentials, so the source password is required.",
      },
      {
        line: 3,
        column: "sourcePassword",
        reason: "Give either the password or the refresh token for this side, not both.",
      },
    ]);
    expect(JSON.stringify(preview)).not.toContain("rt-");

    // With the login check, a revoked refresh token is a rejected row naming its column.
    const revoked = refreshTokenFor("csv-c@example.com");
    tokens.revokeRefreshToken(revoked.refreshToken);
    const checked = await previewImport(t.ctx, {
      verifyLogins: true,
      csv: [
        "sourceServerId,sourceEmail,sourcePassword,destServerId,destEmail,destPassword,sourceRefreshToken,sourceOAuth2Provider,sourceOAuth2ClientId,sourceOAuth2ClientSecret,sourceOAuth2TokenUrl",
        `plain source,csv-c@example.com,,plain dest,csv-c@example.com,pw,${revoked.refreshToken},google,${revoked.clientId},${revoked.clientSecret},${revoked.tokenUrl}`,
      ].join("\r\n"),
    });
    expect(checked.errors).toContainEqual({
      line: 2,
      column: "sourceRefreshToken",
      reason:
        "Google refused the refresh token for csv-c@example.com: invalid_grant — the mailbox's authorization has expired or was revoked: connect the mailbox again.",
    });
    expect(JSON.stringify(checked)).not.toContain(revoked.refreshToken);
  });

  it("show only which mode a server holds, and store its secrets encrypted", async () => {
    const google = await getServer(t.ctx, googleSource);
    expect(google.admin).toEqual({ mode: "google-service-account" });
    const microsoft = await getServer(t.ctx, await microsoftDestination("nobody@example.com"));
    expect(microsoft.admin).toEqual({ mode: "microsoft-app" });
    const rows = await t.ctx.db.selectFrom("servers").select(["admin_secret"]).execute();
    for (const row of rows) {
      for (const secret of [CLIENT_SECRET, serviceAccount.private_key_id, serviceAccount.private_key]) {
        expect(row.admin_secret ?? "").not.toContain(secret);
      }
    }
    expect(JSON.stringify([google, microsoft])).not.toContain(CLIENT_SECRET);
  });

  it("refuse a malformed service account key or tenant id with a sentence naming the field, storing nothing", async () => {
    const before = await t.ctx.db.selectFrom("servers").select("id").execute();
    const notJson = await refusal(
      createServer(t.ctx, {
        name: "bad key",
        ...endpoint(pair.source),
        admin: { mode: "google-service-account", serviceAccountKey: "{ this is not json" },
      }),
    );
    expect(notJson.code).toBe("BAD_INPUT");
    expect(notJson.problems[0]?.path).toEqual(["admin", "serviceAccountKey"]);
    expect(notJson.message).toMatch(/^The service account key is not JSON\./);
    const noKey = await refusal(
      createServer(t.ctx, {
        name: "bad key 2",
        ...endpoint(pair.source),
        admin: {
          mode: "google-service-account",
          serviceAccountKey: JSON.stringify({
            ...serviceAccount,
            private_key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
          }),
        },
      }),
    );
    expect(noKey.message).toContain('"private_key" is not a readable RSA private key');
    const tenant = await refusal(
      createServer(t.ctx, {
        name: "bad tenant",
        ...endpoint(pair.destination),
        admin: { mode: "microsoft-app", tenantId: "not a tenant", clientId: nextGuid(), clientSecret: "s" },
      }),
    );
    expect(tenant.code).toBe("BAD_INPUT");
    expect(tenant.problems[0]?.path).toEqual(["admin", "tenantId"]);
    expect(tenant.problems[0]?.message).toMatch(/^The tenant id is the Directory \(tenant\) ID/);
    expect(await t.ctx.db.selectFrom("servers").select("id").execute()).toEqual(before);
  });

  it("refuse an expired or revoked refresh token when the job is created, naming the field and the provider's code", async () => {
    const grant = refreshTokenFor("revoked@example.com");
    tokens.revokeRefreshToken(grant.refreshToken);
    const before = await t.ctx.db.selectFrom("jobs").select("id").execute();
    const error = await refusal(
      createJob(t.ctx, {
        sourceServerId: plainSource,
        sourceEmail: "revoked@example.com",
        sourceOAuth2: grant,
        destServerId: plainDest,
        destEmail: "revoked@example.com",
        destPassword: "whatever",
      }),
    );
    expect(error.code).toBe("BAD_INPUT");
    expect(error.message).toBe(
      "Google refused the refresh token for revoked@example.com: invalid_grant — the mailbox's authorization has expired or was revoked: connect the mailbox again.",
    );
    expect(error.problems[0]?.path).toEqual(["sourceOAuth2", "refreshToken"]);
    expect(await t.ctx.db.selectFrom("jobs").select("id").execute()).toEqual(before);
  });
});

for (const engineCase of ENGINES) {
  describe.skipIf(!engineCase.enabled)(`OAuth2 logins, ${engineCase.kind} engine`, () => {
    let worker: WorkerHandle;
    const cmdlines: string[] = [];

    beforeAll(async () => {
      worker = await startArgvRecordingWorker(t.ctx, engineCase.kind, cmdlines);
    });

    afterAll(async () => {
      await worker?.stop({ handBack: true });
    });

    /** The job ends done, with every message on the destination and no secret shown anywhere. */
    async function expectMigratedJob(
      jobId: number,
      users: Awaited<ReturnType<typeof mailboxes>>,
      since: number,
    ) {
      const ended = await waitForJobStatus(t.ctx, jobId, ["done", "incomplete", "failed"]);
      expect(ended.errorMessage).toBeNull();
      expect(ended).toMatchObject({ status: "done", exitCode: 0, errorCategory: "ok" });
      await expectSameMail(pair, users, engineCase.kind);
      await expectNoSecretsShown(jobId, since);
    }

    async function expectNoSecretsShown(jobId: number, since: number) {
      const log = (await readLog(t.ctx, jobId, 0, 10 * 1024 * 1024)).chunks.map((c) => c.text).join("");
      const view = JSON.stringify(await getJob(t.ctx, jobId));
      const argv = cmdlines.slice(since);
      expect(
        argv.length,
        `engines started since ${since}: ${cmdlines.length}; log: ${log.slice(0, 600)}`,
      ).toBeGreaterThan(0);
      for (const secret of secrets) {
        for (const cmdline of argv) expect(cmdline).not.toContain(secret);
        expect(log).not.toContain(secret);
        expect(view).not.toContain(secret);
        for (const line of logged) expect(line).not.toContain(secret);
      }
      // The token files were the run's own, and are gone with it. (An engine that had already exited when
      // its start was handled, on a loaded machine, left an empty cmdline: nothing to read there.)
      for (const cmdline of argv.filter((c) => c !== "")) {
        const files = [...cmdline.matchAll(/--oauthaccesstoken[12] (\S+)/g)].map((m) => m[1] ?? "");
        expect(files.length, cmdline).toBeGreaterThan(0);
        for (const file of files) expect(existsSync(file)).toBe(false);
      }
      return log;
    }

    it("migrates a mailbox from a Google service account to a Microsoft 365 app with only the logins", async () => {
      const name = `sa-app-${engineCase.kind}@example.com`;
      const users = await mailboxes(name);
      const destServerId = await microsoftDestination(name);
      const before = cmdlines.length;
      const job = await createJob(t.ctx, {
        sourceServerId: googleSource,
        sourceEmail: name,
        destServerId,
        destEmail: name,
        dryRun: false,
      });
      await expectMigratedJob(job.id, users, before);
      const grants = tokens.issued.filter((i) => i.login === name).map((i) => i.grant);
      expect(grants).toContain("jwt-bearer");
      expect(grants).toContain("client-credentials");
    });

    it("migrates a mailbox with the mailbox's own refresh tokens on both sides", async () => {
      const name = `delegated-${engineCase.kind}@example.com`;
      const users = await mailboxes(name);
      const before = cmdlines.length;
      const job = await createJob(t.ctx, {
        sourceServerId: plainSource,
        sourceEmail: name,
        sourceOAuth2: refreshTokenFor(name),
        destServerId: plainDest,
        destEmail: name,
        destOAuth2: refreshTokenFor(name),
        dryRun: false,
      });
      await expectMigratedJob(job.id, users, before);
    });

    it("migrates a mailbox imported from CSV with refresh tokens instead of passwords", async () => {
      const name = `csv-${engineCase.kind}@example.com`;
      const users = await mailboxes(name);
      const source = refreshTokenFor(name);
      const dest = refreshTokenFor(name);
      const csv = [
        "sourceServerId,sourceEmail,sourcePassword,destServerId,destEmail,destPassword,dryRun,sourceRefreshToken,sourceOAuth2Provider,sourceOAuth2ClientId,sourceOAuth2ClientSecret,sourceOAuth2TokenUrl,destRefreshToken,destOAuth2Provider,destOAuth2ClientId,destOAuth2ClientSecret,destOAuth2TokenUrl",
        `plain source,${name},,plain dest,${name},,false,${source.refreshToken},google,${source.clientId},${source.clientSecret},${source.tokenUrl},${dest.refreshToken},google,${dest.clientId},${dest.clientSecret},${dest.tokenUrl}`,
      ].join("\r\n");
      const before = cmdlines.length;
      const imported = await importBatch(t.ctx, {
        csv,
        tag: `oauth2-csv-${engineCase.kind}`,
        verifyLogins: true,
      });
      expect(imported.jobCount).toBe(1);
      const job = await t.ctx.db
        .selectFrom("jobs")
        .select(["id", "source_secret", "source_oauth2"])
        .where("batch_id", "=", imported.batch.id)
        .executeTakeFirstOrThrow();
      expect(job.source_secret).toBeNull();
      expect(job.source_oauth2).toMatch(/^v1:test:/);
      await expectMigratedJob(job.id, users, before);
    });

    it("keeps the refresh token the provider rotates, and a rerun starts from the newest one", async () => {
      const name = `rotating-${engineCase.kind}@example.com`;
      const users = await mailboxes(name);
      const first = tokens.addRefreshToken(name, PANEL_CLIENT, { rotate: true });
      secrets.push(first);
      const grant = {
        provider: "microsoft" as const,
        refreshToken: first,
        ...PANEL_CLIENT,
        tokenUrl: tokens.tokenUrl,
      };
      const before = cmdlines.length;
      const job = await createJob(t.ctx, {
        sourceServerId: plainSource,
        sourceEmail: name,
        sourceOAuth2: grant,
        destServerId: plainDest,
        destEmail: name,
        destPassword: users.dest.password,
        dryRun: false,
      });
      await expectMigratedJob(job.id, users, before);
      // Every refresh revoked the token it used: only the newest one works, and it is the one stored.
      const newest = tokens.issued.filter((i) => i.login === name && i.refreshToken).at(-1)?.refreshToken;
      expect(newest).toBeDefined();
      const row = await t.ctx.db
        .selectFrom("jobs")
        .select("source_oauth2")
        .where("id", "=", job.id)
        .executeTakeFirstOrThrow();
      expect(JSON.parse(t.ctx.vault.decrypt(row.source_oauth2 ?? "")).refreshToken).toBe(newest);
      const rerun = await rerunJob(t.ctx, { id: job.id });
      await expectMigratedJob(rerun.id, users, cmdlines.length);
    });

    it("fails naming the OAuth2 access token when the server refuses it for the mailbox", async () => {
      const name = `not-the-apps-${engineCase.kind}@example.com`;
      await mailboxes(name);
      // The app's tokens open another mailbox only (Dovecot checks the introspected username).
      const destServerId = await microsoftDestination(`someone-else-${engineCase.kind}@example.com`);
      const job = await createJob(t.ctx, {
        sourceServerId: googleSource,
        sourceEmail: name,
        destServerId,
        destEmail: name,
        dryRun: false,
      });
      const ended = await waitForJobStatus(t.ctx, job.id, ["done", "incomplete", "failed"]);
      expect(ended).toMatchObject({ status: "failed", errorCategory: "destination-auth" });
      expect(ended.errorMessage).toContain(
        `rejected the OAuth2 access token for ${name}: does the mailbox exist there, and may the service account, app or authorization open it (IMAP scope)?`,
      );
    });

    it("fails with the provider's sentence when Google refuses the service account", async () => {
      const undelegated = tokens.addServiceAccount({ delegated: false });
      const server = await createServer(t.ctx, {
        name: `undelegated ${engineCase.kind}`,
        ...endpoint(pair.source),
        admin: {
          mode: "google-service-account",
          serviceAccountKey: JSON.stringify(undelegated),
          tokenUrl: tokens.tokenUrl,
        },
      });
      const name = `refused-${engineCase.kind}@example.com`;
      const job = await createJob(t.ctx, {
        sourceServerId: server.id,
        sourceEmail: name,
        destServerId: plainDest,
        destEmail: name,
        destPassword: "irrelevant",
        dryRun: false,
      });
      const ended = await waitForJobStatus(t.ctx, job.id, ["done", "incomplete", "failed"]);
      expect(ended).toMatchObject({
        status: "failed",
        errorCategory: "oauth2-token",
        errorMessage: `Google refused the service account for ${name}: unauthorized_client — is domain-wide delegation granted to this service account for the scope https://mail.google.com/?`,
      });
    });
  });
}

for (const engineCase of ENGINES) {
  describe.skipIf(!engineCase.enabled)(`short-lived OAuth2 tokens, ${engineCase.kind} engine`, () => {
    let worker: WorkerHandle;

    beforeAll(async () => {
      const engine = await resolveEngine({
        engine: engineCase.kind,
        ...(engineCase.kind === "imapsync" && IMAPSYNC_BIN ? { imapsyncBin: IMAPSYNC_BIN } : {}),
      });
      worker = await startWorker({ ctx: t.ctx, engine, concurrency: 1, heartbeatMs: 500 });
    });

    afterAll(async () => {
      tokens.tokenLifetimeSeconds = 3600;
      await worker?.stop({ handBack: true });
    });

    it("renews the token mid-run, logs in again with the new one after a dropped connection, and copies every message once", async () => {
      const name = `long-${engineCase.kind}@example.com`;
      const users = await mailboxes(
        name,
        generateLargeMailbox({ messages: 60, folders: 2, averageSize: 1500, seed: 18 }),
      );
      const destServerId = await microsoftDestination(name);
      tokens.tokenLifetimeSeconds = 5;
      // Three service-account tokens for the mailbox: the first, and two renewals half a lifetime
      // apart, so the first one has expired by the time the third is issued.
      const thirdSourceToken = new Promise<void>((resolve) => {
        tokens.events.on("issued", function countSourceTokens() {
          const issued = tokens.issued.filter((i) => i.login === name && i.grant === "jwt-bearer");
          if (issued.length >= 3) {
            tokens.events.off("issued", countSourceTokens);
            resolve();
          }
        });
      });
      const job = await createJob(t.ctx, {
        sourceServerId: googleSource,
        sourceEmail: name,
        destServerId,
        destEmail: name,
        dryRun: false,
        // Slow enough (about 15 s) to outlive several 5-second tokens.
        options: { maxMessagesPerSecond: 4 },
      });
      await waitForJobStatus(t.ctx, job.id, ["running"]);
      await thirdSourceToken;
      // A dropped connection mid-run: the engine must log in again, and the token it started with is dead.
      await pair.source.kick(name);
      const ended = await waitForJobStatus(t.ctx, job.id, ["done", "incomplete", "failed"], 600_000);
      const log = (await readLog(t.ctx, job.id, 0, 10 * 1024 * 1024)).chunks.map((c) => c.text).join("");
      expect(ended.errorMessage).toBeNull();
      expect(ended.status).toBe("done");
      expect(log).toMatch(/renewed the source access token/);
      expect(log).toMatch(/renewed the destination access token/);
      if (engineCase.kind === "builtin") {
        // Logged in again within the run, with the renewed token from the file.
        expect(ended.attempt).toBe(1);
        expect(Number((ended.stats as Record<string, unknown>).reconnectionsToSource)).toBeGreaterThan(0);
      } else {
        // imapsync 2.229 resends the token it started with when it reconnects; the run that hit the
        // dead token passed, and the job resumed by itself with a fresh one.
        expect(ended.attempt).toBe(2);
        expect(log).toContain(
          "imapsync lost a connection after its access token had expired and could not log in again (imapsync reads the token only when it starts); the migration resumes with a fresh token.",
        );
      }
      await expectSameMail(pair, users, engineCase.kind);
    });
  });
}
