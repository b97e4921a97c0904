import { readMailbox, startTcpProxy, type TcpProxy } from "@imapferry/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getJob } from "../src/services/jobs/jobs.ts";
import { readLog } from "../src/services/logs/logs.ts";
import { updateSettings } from "../src/services/settings/settings.ts";
import {
  createFixtureJob,
  type ImapFixture,
  largeUsers,
  type MailboxUsers,
  startImapFixture,
} from "./support/imap-fixture.ts";
import { createJobTestContext, type JobTestContext, waitFor } from "./support/job-context.ts";
import { isProcessAlive } from "./support/process-alive.ts";
import {
  databaseUrlThrough,
  killWorkerProcesses,
  spawnWorkerProcess,
  type WorkerProcess,
} from "./support/spawn-worker.ts";

const LEASE_SECONDS = 3;
/** At 8 messages a second, over a minute of copying: the freeze falls well inside it. */
const MESSAGES = 500;

let t: JobTestContext;
let imap: ImapFixture;
const processes: WorkerProcess[] = [];
const proxies: TcpProxy[] = [];

function startWorkerProcess(id: string, databaseUrl: string): Promise<WorkerProcess> {
  return spawnWorkerProcess({
    databaseUrl,
    secretKey: t.secretKey,
    id,
    concurrency: 1,
    heartbeatMs: 500,
  }).then((p) => {
    processes.push(p);
    return p;
  });
}

/** Every message of a mailbox as "folder:sha256", one entry per copy. */
async function messagesOf(side: "source" | "destination", user: { user: string; password: string }) {
  const server = side === "source" ? imap.pair.source : imap.pair.destination;
  const mailbox = await readMailbox(server, user.user, user.password);
  return mailbox.folders.flatMap((f) => f.messages.map((m) => `${f.path}:${m.sha256}`)).sort();
}

function spawnedPids(p: WorkerProcess): number[] {
  return p.events.flatMap((e) => (typeof e.spawned === "number" ? [e.spawned] : []));
}

/** Polls closely (not waitFor's backoff) for when a process is gone; returns Date.now() then. */
async function whenProcessDies(pid: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (performance.now() > deadline) throw new Error(`process ${pid} was still alive after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now();
}

beforeAll(async () => {
  t = await createJobTestContext();
  imap = await startImapFixture(t.ctx, { sourceHostLimit: 4 });
  await updateSettings(t.ctx, { leaseSeconds: LEASE_SECONDS });
});

afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
  await killWorkerProcesses(processes);
});

afterAll(async () => {
  await imap?.stop();
  await t?.close();
});

describe("a worker cut off from the database (split brain)", () => {
  it("stops its engine before its lease ends; the worker that resumes the job leaves every message exactly once", async () => {
    const users: MailboxUsers = await largeUsers(imap.pair, "partitioned", MESSAGES, 5);
    const dbUrl = new URL(t.database.connectionString);
    const proxy = await startTcpProxy({ host: dbUrl.hostname, port: Number(dbUrl.port || 5432) });
    proxies.push(proxy);
    const a = await startWorkerProcess(
      "worker-behind-proxy",
      databaseUrlThrough(t.database.connectionString, proxy.port),
    );
    const job = await createFixtureJob(t.ctx, imap, users, { options: { maxMessagesPerSecond: 8 } });
    await waitFor("the job to run on worker A", async () => {
      const v = await getJob(t.ctx, job.id);
      return v.status === "running" && v.workerId === a.id;
    });
    const b = await startWorkerProcess("worker-direct", t.database.connectionString);
    const copying = await waitFor("the job to copy on worker A", async () => {
      const v = await getJob(t.ctx, job.id);
      return v.status === "running" && v.workerId === a.id && (v.progress?.copied ?? 0) > 0 ? v : undefined;
    });
    expect(copying.progress?.copied ?? 0).toBeLessThan(MESSAGES / 2);
    const enginePid = spawnedPids(a).at(-1);
    expect(enginePid).toBeDefined();

    // Packets to and from A's database now hang: no error, no close, nothing A's driver can notice.
    proxy.freeze();
    const frozenAt = performance.now();
    const engineDiedAt = await whenProcessDies(enginePid!, 30_000);
    const killedAfterMs = performance.now() - frozenAt;
    // Before the lease could end: the last renewal was sent at most a heartbeat before the freeze, and
    // the engine is killed a quarter lease before the lease's end (the slack is this loop's polling).
    expect(killedAfterMs).toBeLessThan(LEASE_SECONDS * 1000 + 100);

    const resumed = await waitFor(
      "worker B to resume the job",
      async () => {
        const v = await getJob(t.ctx, job.id);
        return v.status === "running" && v.workerId === b.id ? v : undefined;
      },
      60_000,
    );
    expect(resumed.attempt).toBeGreaterThan(copying.attempt);
    expect(resumed.startedAt!.getTime()).toBeGreaterThan(engineDiedAt);
    // Keep A cut off for several lease lengths while B copies.
    await waitFor(
      "several lease lengths to pass with A frozen out",
      () => performance.now() - frozenAt > 4 * LEASE_SECONDS * 1000,
      60_000,
    );
    proxy.thaw();

    const ended = await waitFor(
      "the job to end",
      async () => {
        const v = await getJob(t.ctx, job.id);
        return ["done", "failed", "cancelled", "interrupted", "incomplete"].includes(v.status)
          ? v
          : undefined;
      },
      300_000,
    );
    const source = await messagesOf("source", users.source);
    const destination = await messagesOf("destination", users.dest);
    expect(source).toHaveLength(MESSAGES);
    // Every source message exactly once: no duplicates from two engines writing at the same time.
    expect(destination).toEqual(source);
    expect(ended).toMatchObject({ status: "done", workerId: b.id });
    // A lived through it, and the log tells what happened to its attempt.
    expect(a.child.exitCode).toBeNull();
    const log = (await readLog(t.ctx, job.id, 0, 1 << 24)).chunks.map((c) => c.text).join("");
    expect(log).toContain(`attempt ${resumed.attempt} on`);
  }, 300_000);
});
