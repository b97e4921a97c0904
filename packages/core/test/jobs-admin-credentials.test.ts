import type { ImapPair, ImapServer } from "@imapferry/testkit";
import { readMailbox, seedMailbox, standardMailboxSpec, startImapPair } from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testConnection } from "../src/engines/connection-test.ts";
import { preflight } from "../src/engines/preflight.ts";
import { ImapferryError } from "../src/errors.ts";
import type { WorkerHandle } from "../src/queue/worker.ts";
import { importBatch, previewImport } from "../src/services/csv-import/csv-import.ts";
import { createJob, editJob, getJob } from "../src/services/jobs/index.ts";
import { readLog } from "../src/services/logs/logs.ts";
import { createServer, getServer } from "../src/services/servers/servers.ts";
import {
  capturingLogger,
  engineCases,
  expectSameMail,
  startArgvRecordingWorker,
} from "./support/engine-worker.ts";
import { createJobTestContext, type JobTestContext, waitForJobStatus } from "./support/job-context.ts";

/*
 * Servers with admin (master user) credentials, against real Dovecots with a master passdb: a job
 * names only the mailbox logins, the engine logs in as the admin on their behalf (SASL PLAIN with an
 * authorization identity, or Dovecot's "login*master" form), and the admin password reaches the
 * engine through its environment only.
 */

const SOURCE_ADMIN = { login: "src-master", password: "Src-master-pw-7€" };
const DEST_ADMIN = { login: "dst-master", password: "Dst-master-pw-9" };
const WRONG_ADMIN_PASSWORD = "Wrong-master-pw-0";
const SECRETS = [SOURCE_ADMIN.password, DEST_ADMIN.password, WRONG_ADMIN_PASSWORD];

const logged: string[] = [];

let t: JobTestContext;
let pair: ImapPair;
const servers = {
  sourceAuthzid: 0,
  sourceSeparator: 0,
  sourceWrong: 0,
  sourcePlain: 0,
  destAuthzid: 0,
  destSeparator: 0,
  destPlain: 0,
};

function endpoint(server: ImapServer) {
  return { host: server.host, port: server.tlsPort, security: "tls" as const, acceptSelfSigned: true };
}

beforeAll(async () => {
  t = await createJobTestContext({ log: capturingLogger(logged) });
  pair = await startImapPair({ masterUsers: true });
  await pair.source.addMasterUser(SOURCE_ADMIN.login, SOURCE_ADMIN.password);
  await pair.destination.addMasterUser(DEST_ADMIN.login, DEST_ADMIN.password);
  const make = async (name: string, server: ImapServer, admin: Record<string, unknown> | null) =>
    (await createServer(t.ctx, { name, ...endpoint(server), admin })).id;
  servers.sourceAuthzid = await make("src authzid", pair.source, { mode: "sasl-authzid", ...SOURCE_ADMIN });
  servers.sourceSeparator = await make("src separator", pair.source, {
    mode: "login-separator",
    ...SOURCE_ADMIN,
  });
  servers.sourceWrong = await make("src wrong", pair.source, {
    mode: "sasl-authzid",
    login: SOURCE_ADMIN.login,
    password: WRONG_ADMIN_PASSWORD,
  });
  servers.sourcePlain = await make("src plain", pair.source, null);
  servers.destPlain = await make("dst plain", pair.destination, null);
  servers.destAuthzid = await make("dst authzid", pair.destination, { mode: "sasl-authzid", ...DEST_ADMIN });
  servers.destSeparator = await make("dst separator", pair.destination, {
    mode: "login-separator",
    ...DEST_ADMIN,
    separator: "*",
  });
});

afterAll(async () => {
  await pair?.stop();
  await t?.close();
});

/** A plain-named source user with the standard mailbox, and its empty destination user. */
async function mailboxes(name: string) {
  const source = await pair.source.addUser(name, `src-${name}-pw`);
  const dest = await pair.destination.addUser(name, `dst-${name}-pw`);
  await seedMailbox(pair.source, source.user, source.password, standardMailboxSpec());
  return { source, dest };
}

describe("server admin credentials", () => {
  it("are stored encrypted and shown as their mode and login only", async () => {
    const view = await getServer(t.ctx, servers.sourceSeparator);
    expect(view.admin).toEqual({ mode: "login-separator", login: SOURCE_ADMIN.login, separator: "*" });
    expect(JSON.stringify(view)).not.toContain(SOURCE_ADMIN.password);
    expect((await getServer(t.ctx, servers.sourcePlain)).admin).toBeNull();
    const row = await t.ctx.db
      .selectFrom("servers")
      .select(["admin_secret"])
      .where("id", "=", servers.sourceSeparator)
      .executeTakeFirstOrThrow();
    expect(row.admin_secret).toMatch(/^v1:test:/);
    expect(row.admin_secret).not.toContain(SOURCE_ADMIN.password);
    expect(t.ctx.vault.decrypt(row.admin_secret ?? "")).toBe(SOURCE_ADMIN.password);
  });

  it("make a job's passwords optional on their side only", async () => {
    const error: unknown = await createJob(t.ctx, {
      sourceServerId: servers.sourcePlain,
      sourceEmail: "zed",
      destServerId: servers.destAuthzid,
      destEmail: "zed",
    }).catch((e: unknown) => e);
    if (!(error instanceof ImapferryError))
      throw new Error(`expected an ImapferryError, got ${String(error)}`);
    expect(error.code).toBe("BAD_INPUT");
    expect(error.message).toBe(
      "The source server has no admin credentials, so the source password is required.",
    );
    expect(error.problems).toEqual([
      {
        path: ["sourcePassword"],
        message: "The source server has no admin credentials, so the source password is required.",
      },
    ]);
  });
});

describe("editing a job onto a server with admin credentials", () => {
  it("drops the stored password of that side instead of asking for it, and keeps the other side's", async () => {
    const job = await createJob(t.ctx, {
      sourceServerId: servers.sourcePlain,
      sourceEmail: "yves",
      sourcePassword: "src-yves-pw",
      destServerId: servers.destPlain,
      destEmail: "yves",
      destPassword: "dst-yves-pw",
    });
    await editJob(t.ctx, { id: job.id, destServerId: servers.destAuthzid });
    const row = await t.ctx.db
      .selectFrom("jobs")
      .select(["source_secret", "dest_secret", "dest_server_id"])
      .where("id", "=", job.id)
      .executeTakeFirstOrThrow();
    expect(row.dest_server_id).toBe(servers.destAuthzid);
    expect(row.dest_secret).toBeNull();
    expect(t.ctx.vault.decrypt(row.source_secret ?? "")).toBe("src-yves-pw");
    // Onto a server without admin credentials, the password is still asked for.
    await expect(editJob(t.ctx, { id: job.id, sourceEmail: "yves2" })).rejects.toThrow(
      /needs the source password again/,
    );
  });
});

describe("the connection test and the pre-flight", () => {
  it("log in as the admin for a mailbox login, and name the admin login when it is refused", async () => {
    await pair.source.addUser("erin", "src-erin-pw");
    await seedMailbox(pair.source, "erin", "src-erin-pw", standardMailboxSpec());
    const server = endpoint(pair.source);
    const admin = { mode: "sasl-authzid" as const, login: SOURCE_ADMIN.login, separator: "*" };
    const asAdmin = { user: "erin", password: SOURCE_ADMIN.password, admin };
    expect(await testConnection(server, asAdmin)).toMatchObject({ ok: true, authenticated: true });
    const separated = { ...asAdmin, admin: { ...admin, mode: "login-separator" as const } };
    expect(await testConnection(server, separated)).toMatchObject({ ok: true, authenticated: true });
    const counted = await preflight(server, asAdmin);
    const seeded = await readMailbox(pair.source, "erin", "src-erin-pw");
    expect(counted.totalMessages).toBe(seeded.folders.reduce((n, f) => n + f.messages.length, 0));

    const refused = await testConnection(server, { ...asAdmin, password: WRONG_ADMIN_PASSWORD });
    expect(refused).toMatchObject({ ok: false, category: "auth" });
    expect(refused.ok ? "" : refused.sentence).toContain(`admin login "${SOURCE_ADMIN.login}" for erin`);
    expect(JSON.stringify(refused)).not.toContain(WRONG_ADMIN_PASSWORD);
  });
});

const ENGINES = engineCases("jobs-admin-credentials");

for (const engineCase of ENGINES) {
  describe.skipIf(!engineCase.enabled)(
    `a job on servers with admin credentials, ${engineCase.kind} engine`,
    () => {
      let worker: WorkerHandle;
      const cmdlines: string[] = [];

      beforeAll(async () => {
        worker = await startArgvRecordingWorker(t.ctx, engineCase.kind, cmdlines);
      });

      afterAll(async () => {
        await worker?.stop({ handBack: true });
      });

      const expectMigrated = (users: Awaited<ReturnType<typeof mailboxes>>) =>
        expectSameMail(pair, users, engineCase.kind);

      async function expectNoSecretsShown(jobId: number) {
        const log = (await readLog(t.ctx, jobId, 0, 10 * 1024 * 1024)).chunks.map((c) => c.text).join("");
        const view = JSON.stringify(await getJob(t.ctx, jobId));
        for (const secret of SECRETS) {
          for (const cmdline of cmdlines) expect(cmdline).not.toContain(secret);
          expect(log).not.toContain(secret);
          expect(view).not.toContain(secret);
          for (const line of logged) expect(line).not.toContain(secret);
        }
        return log;
      }

      it("migrates every message with only the mailbox logins, by SASL PLAIN with an authorization identity", async () => {
        const name = `alice-${engineCase.kind}`;
        const users = await mailboxes(name);
        const before = cmdlines.length;
        const job = await createJob(t.ctx, {
          sourceServerId: servers.sourceAuthzid,
          sourceEmail: name,
          destServerId: servers.destAuthzid,
          destEmail: name,
          dryRun: false,
        });
        const ended = await waitForJobStatus(t.ctx, job.id, ["done", "incomplete", "failed"]);
        expect(ended.errorMessage).toBeNull();
        expect(ended).toMatchObject({ status: "done", exitCode: 0, errorCategory: "ok" });
        await expectMigrated(users);
        const argv = cmdlines.slice(before).join("\n");
        expect(argv).toContain(`--user1 ${name} --authuser1 ${SOURCE_ADMIN.login}`);
        expect(argv).toContain(`--user2 ${name} --authuser2 ${DEST_ADMIN.login}`);
        await expectNoSecretsShown(job.id);
      });

      it("migrates every message with only the mailbox logins, as login*admin", async () => {
        const name = `bob-${engineCase.kind}`;
        const users = await mailboxes(name);
        const before = cmdlines.length;
        const job = await createJob(t.ctx, {
          sourceServerId: servers.sourceSeparator,
          sourceEmail: name,
          destServerId: servers.destSeparator,
          destEmail: name,
          dryRun: false,
        });
        const ended = await waitForJobStatus(t.ctx, job.id, ["done", "incomplete", "failed"]);
        expect(ended.errorMessage).toBeNull();
        expect(ended).toMatchObject({ status: "done", exitCode: 0, errorCategory: "ok" });
        await expectMigrated(users);
        const argv = cmdlines.slice(before).join("\n");
        expect(argv).toContain(`--user1 ${name}*${SOURCE_ADMIN.login}`);
        expect(argv).not.toContain("--authuser");
        await expectNoSecretsShown(job.id);
      });

      it("imports a CSV of plain logins, with passwords and without them where the servers have admin credentials", async () => {
        const withPasswords = await mailboxes(`frank-${engineCase.kind}`);
        const withoutPasswords = await mailboxes(`gina-${engineCase.kind}`);
        const csv = [
          "sourceServerId,sourceLogin,sourcePassword,destServerId,destLogin,destPassword,dryRun",
          `src plain,${withPasswords.source.user},${withPasswords.source.password},dst plain,${withPasswords.dest.user},${withPasswords.dest.password},false`,
          `src authzid,${withoutPasswords.source.user},,dst separator,${withoutPasswords.dest.user},,false`,
          // An empty password where the server has no admin credentials is refused, in the preview too.
        ].join("\n");
        const refused = await previewImport(t.ctx, {
          csv: `${csv}\nsrc plain,nobody,,dst plain,nobody,x,false`,
        });
        expect(refused.errors).toEqual([
          {
            line: 4,
            column: "sourcePassword",
            reason: "The source server has no admin credentials, so the source password is required.",
          },
        ]);
        const imported = await importBatch(t.ctx, { csv, tag: `plain-logins-${engineCase.kind}` });
        expect(imported.jobCount).toBe(2);
        const jobs = await t.ctx.db
          .selectFrom("jobs")
          .select(["id", "source_email", "source_secret", "dest_secret"])
          .where("batch_id", "=", imported.batch.id)
          .orderBy("id")
          .execute();
        expect(jobs.map((j) => [j.source_email, j.source_secret === null, j.dest_secret === null])).toEqual([
          [withPasswords.source.user, false, false],
          [withoutPasswords.source.user, true, true],
        ]);
        for (const job of jobs) {
          const ended = await waitForJobStatus(t.ctx, job.id, ["done", "incomplete", "failed"]);
          expect(ended).toMatchObject({ status: "done", errorCategory: "ok" });
          await expectNoSecretsShown(job.id);
        }
        await expectMigrated(withPasswords);
        await expectMigrated(withoutPasswords);
      });

      it("uses the job's own password where it has one, over the server's admin credentials", async () => {
        const name = `carol-${engineCase.kind}`;
        const users = await mailboxes(name);
        const before = cmdlines.length;
        const job = await createJob(t.ctx, {
          sourceServerId: servers.sourceWrong,
          sourceEmail: name,
          sourcePassword: users.source.password,
          destServerId: servers.destAuthzid,
          destEmail: name,
          dryRun: false,
        });
        const ended = await waitForJobStatus(t.ctx, job.id, ["done", "incomplete", "failed"]);
        expect(ended).toMatchObject({ status: "done", errorCategory: "ok" });
        await expectMigrated(users);
        expect(cmdlines.slice(before).join("\n")).not.toContain("--authuser1");
      });

      it("fails with the auth category and a sentence naming the admin login when the admin password is wrong", async () => {
        const name = `dave-${engineCase.kind}`;
        await mailboxes(name);
        const job = await createJob(t.ctx, {
          sourceServerId: servers.sourceWrong,
          sourceEmail: name,
          destServerId: servers.destAuthzid,
          destEmail: name,
          dryRun: false,
        });
        const ended = await waitForJobStatus(t.ctx, job.id, ["done", "incomplete", "failed"]);
        expect(ended).toMatchObject({ status: "failed", errorCategory: "source-auth" });
        expect(ended.errorMessage).toBe(
          `The source server ${pair.source.host} rejected the admin login "${SOURCE_ADMIN.login}" for ${name}: check the server's admin credentials.`,
        );
        await expectNoSecretsShown(job.id);
      });
    },
  );
}
