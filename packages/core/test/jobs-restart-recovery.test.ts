import { readMailbox } from "@imapferry/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getJob } from "../src/services/jobs/index.ts";
import { readLog } from "../src/services/logs/logs.ts";
import { updateSettings } from "../src/services/settings/settings.ts";
import { EXITED_WORKER_GRACE_MS } from "../src/services/workers/workers.ts";
import { createFixtureJob, type ImapFixture, largeUsers, startImapFixture } from "./support/imap-fixture.ts";
import { createJobTestContext, type JobTestContext, waitFor } from "./support/job-context.ts";
import { killWorkerProcesses, spawnWorkerProcess, type WorkerProcess } from "./support/spawn-worker.ts";

/** The default lease: a worker gone silent is taken over only after this (and a margin). */
const LEASE_SECONDS = 60;
const MESSAGES = 200;

let t: JobTestContext;
let imap: ImapFixture;
const processes: WorkerProcess[] = [];

async function startWorkerProcess(id: string): Promise<WorkerProcess> {
  const p = await spawnWorkerProcess({
    databaseUrl: t.database.connectionString,
    secretKey: t.secretKey,
    id,
    concurrency: 1,
    // The production period: the lease is renewed every 5 s.
    heartbeatMs: 5000,
  });
  processes.push(p);
  return p;
}

beforeAll(async () => {
  t = await createJobTestContext();
  imap = await startImapFixture(t.ctx);
  await updateSettings(t.ctx, { leaseSeconds: LEASE_SECONDS });
});

afterEach(async () => {
  await killWorkerProcesses(processes);
});

afterAll(async () => {
  await imap?.stop();
  await t?.close();
});

describe("a worker restarted on the same host", () => {
  it("resumes the job of its predecessor killed with -9 at once, not after the lease, with no duplicate", async () => {
    const users = await largeUsers(imap.pair, "restart", MESSAGES, 7);
    const first = await startWorkerProcess("worker-before");
    const job = await createFixtureJob(t.ctx, imap, users, { options: { maxMessagesPerSecond: 10 } });
    await waitFor(
      "the job to copy a few messages",
      async () => {
        const v = await getJob(t.ctx, job.id);
        return v.status === "running" && (v.progress?.copied ?? 0) >= 10 ? v : undefined;
      },
      120_000,
    );
    const killedAt = Date.now();
    first.kill("SIGKILL");
    await first.exited;
    const second = await startWorkerProcess("worker-after");

    const resumed = await waitFor(
      "the job to run again on the new worker",
      async () => {
        const v = await getJob(t.ctx, job.id);
        return v.status === "running" && v.workerId === second.id ? v : undefined;
      },
      120_000,
    );
    const resumedAfterMs = Date.now() - killedAt;
    console.info(`resumed ${Math.round(resumedAfterMs)} ms after kill -9 (lease ${LEASE_SECONDS} s)`);
    expect(resumed.attempt).toBe(2);
    // Long before the lease could have lapsed, yet not before the dead worker's engine had time to stop.
    expect(resumedAfterMs).toBeLessThan(30_000);
    expect(resumedAfterMs).toBeGreaterThanOrEqual(EXITED_WORKER_GRACE_MS);
    const log = (await readLog(t.ctx, job.id, 0, 10 * 1024 * 1024)).chunks.map((c) => c.text).join("");
    expect(log).toContain("its process is gone");
    expect(log).toContain("Resuming as attempt 2");

    const done = await waitFor(
      "the job to end",
      async () => {
        const v = await getJob(t.ctx, job.id);
        return ["done", "failed", "incomplete", "interrupted", "cancelled"].includes(v.status)
          ? v
          : undefined;
      },
      180_000,
    );
    expect(done).toMatchObject({ status: "done", attempt: 2, workerId: second.id });
    const dest = await readMailbox(imap.pair.destination, users.dest.user, users.dest.password);
    const all = dest.folders.flatMap((f) => f.messages.map((m) => `${f.path}:${m.sha256}`));
    expect(all).toHaveLength(MESSAGES);
    expect(new Set(all).size).toBe(MESSAGES);
    // The dead worker's row says what happened to it.
    const row = await t.ctx.db
      .selectFrom("workers")
      .select(["exited_at", "stopped_at"])
      .where("id", "=", first.id)
      .executeTakeFirstOrThrow();
    expect(row.exited_at).not.toBeNull();
    expect(row.stopped_at).not.toBeNull();
  }, 300_000);
});
