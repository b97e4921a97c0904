import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ServiceContext } from "@imapferry/core";
import {
  createJob,
  createServer,
  createVault,
  getJob,
  keyIdOf,
  readLog,
  silentLogger,
  systemClock,
  updateSettings,
} from "@imapferry/core";
import { findFreePort } from "@imapferry/db";
import { createTestDatabase, type TestDatabase } from "@imapferry/db/testing";
import { generateLargeMailbox, type ImapPair, readMailbox, startImapPair } from "@imapferry/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CliProcess, runCli } from "./support/cli-process.ts";

/** The default lease: without recovery by a process on the same host, a dead worker's job waits this. */
const LEASE_SECONDS = 60;
const MESSAGES = 150;

let database: TestDatabase;
let imap: ImapPair;
let ctx: ServiceContext;
let dataDir: string;
const secretKey = randomBytes(32);
const processes: CliProcess[] = [];

function cli(args: string[]): CliProcess {
  const p = runCli(args, {
    DATABASE_URL: database.connectionString,
    IMAPFERRY_SECRET_KEY: secretKey.toString("base64"),
    IMAPFERRY_DATA_DIR: dataDir,
    IMAPFERRY_ENGINE: "builtin",
    IMAPFERRY_WORKER_CONCURRENCY: "1",
  });
  processes.push(p);
  return p;
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  [database, imap] = await Promise.all([createTestDatabase(), startImapPair()]);
  dataDir = await mkdtemp(path.join(tmpdir(), "imapferry-recovery-"));
  ctx = {
    db: database.db,
    pool: database.pool,
    vault: createVault({ keys: { [keyIdOf(secretKey)]: secretKey }, currentKeyId: keyIdOf(secretKey) }),
    log: silentLogger,
    clock: systemClock,
  };
  await updateSettings(ctx, { leaseSeconds: LEASE_SECONDS });
});

afterEach(async () => {
  for (const p of processes.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) await p.stop("SIGKILL");
  }
});

afterAll(async () => {
  await imap?.stop();
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("imapferry start --no-worker", () => {
  it("re-queues the job of a worker killed with -9, so a worker started later takes it at once", async () => {
    const source = await imap.source.addUser("api-only@old.example", "src-api-only-pw");
    const dest = await imap.destination.addUser("api-only@new.example", "dst-api-only-pw");
    await imap.source.seedMaildir(
      source.user,
      generateLargeMailbox({ messages: MESSAGES, folders: 2, seed: 5, averageSize: 4000 }),
    );
    const server = (name: string, side: typeof imap.source) =>
      createServer(ctx, {
        name,
        host: side.host,
        port: side.tlsPort,
        security: "tls",
        acceptSelfSigned: true,
      });
    const [from, to] = [await server("source", imap.source), await server("destination", imap.destination)];

    const api = cli(["start", "--no-worker", "--port", String(await findFreePort())]);
    await api.waitFor(/imapferry is running/);
    const first = cli(["worker"]);
    await first.waitFor(/imapferry worker \S+ is running/);

    const job = await createJob(ctx, {
      sourceServerId: from.id,
      sourceEmail: source.user,
      sourcePassword: source.password,
      destServerId: to.id,
      destEmail: dest.user,
      destPassword: dest.password,
      dryRun: false,
      options: { maxMessagesPerSecond: 10 },
    });
    await waitFor("the job to copy a few messages", async () => {
      const v = await getJob(ctx, job.id);
      return v.status === "running" && (v.progress?.copied ?? 0) >= 10 ? v : undefined;
    });
    const killedAt = Date.now();
    await first.stop("SIGKILL");

    // No worker is left: only the API process can notice and re-queue.
    const requeued = await waitFor("the API to re-queue the job", async () => {
      const v = await getJob(ctx, job.id);
      return v.status === "queued" && v.attempt === 2 ? v : undefined;
    });
    const requeuedAfterMs = Date.now() - killedAt;
    console.info(
      `re-queued by the API ${Math.round(requeuedAfterMs)} ms after kill -9 (lease ${LEASE_SECONDS} s)`,
    );
    expect(requeuedAfterMs).toBeLessThan(40_000);
    expect(requeued.workerId).toBeNull();
    const log = (await readLog(ctx, job.id, 0, 10 * 1024 * 1024)).chunks.map((c) => c.text).join("");
    expect(log).toContain("its process is gone");

    const second = cli(["worker"]);
    await second.waitFor(/imapferry worker \S+ is running/);
    const startedAt = Date.now();
    await waitFor("the new worker to take the job", async () => {
      const v = await getJob(ctx, job.id);
      return v.status === "running" || v.status === "done" ? v : undefined;
    });
    // At once: a queued job is handed out through LISTEN/NOTIFY, not after a lease or a poll.
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    const done = await waitFor(
      "the job to end",
      async () => {
        const v = await getJob(ctx, job.id);
        return ["done", "failed", "incomplete", "interrupted", "cancelled"].includes(v.status)
          ? v
          : undefined;
      },
      180_000,
    );
    expect(done).toMatchObject({ status: "done", attempt: 2 });
    const copied = await readMailbox(imap.destination, dest.user, dest.password);
    const all = copied.folders.flatMap((f) => f.messages.map((m) => `${f.path}:${m.sha256}`));
    expect(all).toHaveLength(MESSAGES);
    expect(new Set(all).size).toBe(MESSAGES);
    await second.stop("SIGTERM");
    await api.stop("SIGTERM");
  }, 300_000);
});
