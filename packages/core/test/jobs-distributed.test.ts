import { readMailbox } from "@imapferry/testkit";
import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CreateJobInput, cancelJob, getJob } from "../src/services/jobs/index.ts";
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
import { killWorkerProcesses, spawnWorkerProcess, type WorkerProcess } from "./support/spawn-worker.ts";

let t: JobTestContext;
let imap: ImapFixture;
const processes: WorkerProcess[] = [];

function startWorkerProcess(id: string, concurrency: number) {
  return spawnWorkerProcess({
    databaseUrl: t.database.connectionString,
    secretKey: t.secretKey,
    id,
    concurrency,
    heartbeatMs: 500,
  }).then((p) => {
    processes.push(p);
    return p;
  });
}

beforeAll(async () => {
  t = await createJobTestContext();
  imap = await startImapFixture(t.ctx, { sourceHostLimit: 2, countSourceConnections: true });
  // Short leases so a dead worker is noticed in seconds rather than the default minute. One connection
  // per account, so the source server's sessions count the migrations running at once.
  await updateSettings(t.ctx, { leaseSeconds: 6, connectionsPerAccount: 1 });
});

afterEach(async () => {
  await killWorkerProcesses(processes);
});

afterAll(async () => {
  await imap?.stop();
  await t?.close();
});

async function newJob(users: MailboxUsers, options: CreateJobInput["options"] = {}) {
  return createFixtureJob(t.ctx, imap, users, { options });
}

describe("workers in separate processes", () => {
  it("share one queue, and the per-source-server limit holds across them", async () => {
    const userSets: MailboxUsers[] = [];
    for (let i = 0; i < 6; i++) userSets.push(await largeUsers(imap.pair, `share${i}`, 30, i + 1));
    const a = await startWorkerProcess("worker-a", 3);
    const b = await startWorkerProcess("worker-b", 3);
    const jobs: Awaited<ReturnType<typeof newJob>>[] = [];
    for (const users of userSets) jobs.push(await newJob(users, { maxMessagesPerSecond: 20 }));
    const finished = await waitFor(
      "every job to end",
      async () => {
        const views = await Promise.all(jobs.map((j) => getJob(t.ctx, j.id)));
        return views.every((v) => ["done", "failed", "cancelled", "interrupted"].includes(v.status))
          ? views
          : undefined;
      },
      300_000,
    );
    expect(finished.map((v) => v.status)).toEqual(jobs.map(() => "done"));
    // Both processes took work from the one queue.
    expect(new Set(finished.map((v) => v.workerId))).toEqual(new Set([a.id, b.id]));
    // The database's view: never more than 2 running at once for this source server.
    const edges = finished.flatMap((v) => [
      { at: v.startedAt!.getTime(), d: 1 },
      { at: v.finishedAt!.getTime(), d: -1 },
    ]);
    edges.sort((x, y) => x.at - y.at || x.d - y.d);
    let running = 0;
    let most = 0;
    for (const e of edges) {
      running += e.d;
      most = Math.max(most, running);
    }
    expect(most).toBe(2);
    // The source server's view: at most 2 migrations' connections open at once (each migration holds one
    // at a time: with one connection per account, the pre-flight count closes before the engine logs
    // in). Counted at its door rather than read from its log, which a loaded machine writes late.
    expect(imap.sourceConnections?.mostOpenAtOnce).toBe(2);
    for (const users of userSets) {
      const dest = await readMailbox(imap.pair.destination, users.dest.user, users.dest.password);
      expect(dest.folders.flatMap((f) => f.messages)).toHaveLength(30);
    }
  }, 300_000);

  it("resumes a migration on another worker when its worker is killed with -9, with no duplicate", async () => {
    const users = await largeUsers(imap.pair, "victim", 120, 42);
    // Both workers are up before the job exists (starting a process can take longer than the job under
    // load): whichever takes it is killed, the other must resume it.
    const pair = await Promise.all([
      startWorkerProcess("worker-one", 1),
      startWorkerProcess("worker-two", 1),
    ]);
    const job = await newJob(users, { maxMessagesPerSecond: 15 });
    const taken = await waitFor(
      "the job to copy a few messages on one worker",
      async () => {
        const v = await getJob(t.ctx, job.id);
        return v.status === "running" && (v.progress?.copied ?? 0) >= 10 ? v : undefined;
      },
      120_000,
    );
    const a = pair.find((p) => p.id === taken.workerId)!;
    const b = pair.find((p) => p.id !== taken.workerId)!;
    a.kill("SIGKILL");
    await a.exited;

    const interrupted = await waitFor(
      "the job to be interrupted",
      async () => {
        const text = (await readLog(t.ctx, job.id, 0, 10 * 1024 * 1024)).chunks.map((c) => c.text).join("");
        return text.includes("stopped responding") ? text : undefined;
      },
      60_000,
    );
    // What A's engine printed in its last ~100 ms died with A: the log says where that hole may be.
    expect(interrupted).toMatch(
      /Its output after \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC may be missing from this log\. Resuming as attempt 2\./,
    );
    const done = await waitFor(
      "the job to end",
      async () => {
        const v = await getJob(t.ctx, job.id);
        return ["done", "failed", "interrupted", "cancelled"].includes(v.status) ? v : undefined;
      },
      300_000,
    );
    expect(done).toMatchObject({ status: "done", attempt: 2, workerId: b.id });
    const dest = await readMailbox(imap.pair.destination, users.dest.user, users.dest.password);
    const all = dest.folders.flatMap((f) => f.messages.map((m) => `${f.path}:${m.sha256}`));
    expect(all).toHaveLength(120);
    expect(new Set(all).size).toBe(120);
  }, 300_000);

  it("cancels a migration running in another process: its engine stops and the job is cancelled", async () => {
    const users = await largeUsers(imap.pair, "cancel-remote", 150, 11);
    const a = await startWorkerProcess("worker-remote", 1);
    const job = await newJob(users, { maxMessagesPerSecond: 15 });
    await waitFor(
      "the job to copy a few messages in the other process",
      async () => {
        const v = await getJob(t.ctx, job.id);
        return v.status === "running" && v.workerId === a.id && (v.progress?.copied ?? 0) >= 5;
      },
      120_000,
    );
    await cancelJob(t.ctx, { id: job.id });
    const ended = await waitFor("the job to be cancelled", async () => {
      const v = await getJob(t.ctx, job.id);
      return v.status === "cancelled" ? v : undefined;
    });
    expect(ended.errorMessage).toBeTruthy();
    // The engine really stopped: nothing more arrives on the destination.
    const count = async () =>
      (await readMailbox(imap.pair.destination, users.dest.user, users.dest.password)).folders.flatMap(
        (f) => f.messages,
      ).length;
    const atCancel = await count();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await count()).toBe(atCancel);
    expect(atCancel).toBeLessThan(150);
    // The worker process lives on and takes the next job.
    expect(a.child.exitCode).toBeNull();
  });

  it("drains on SIGTERM (the running migration finishes) and hands back on a second SIGTERM", async () => {
    const first = await largeUsers(imap.pair, "drain", 40, 7);
    const a = await startWorkerProcess("worker-drain", 1);
    const job = await newJob(first, { maxMessagesPerSecond: 20 });
    await waitFor("the job to run", async () => (await getJob(t.ctx, job.id)).status === "running");
    a.kill("SIGTERM");
    await waitFor("the worker to be draining", async () => {
      const row = await t.ctx.db
        .selectFrom("workers")
        .select("draining")
        .where("id", "=", a.id)
        .executeTakeFirst();
      return row?.draining === true;
    });
    // A job queued while draining is not taken by the draining worker.
    const second = await largeUsers(imap.pair, "handback", 200, 8);
    const waiting = await newJob(second, { maxMessagesPerSecond: 15 });
    expect(await a.exited).toBe(0);
    expect((await getJob(t.ctx, job.id)).status).toBe("done");
    expect((await getJob(t.ctx, waiting.id)).status).toBe("queued");

    const b = await startWorkerProcess("worker-handback", 1);
    await waitFor(
      "the second job to run on B",
      async () => {
        const v = await getJob(t.ctx, waiting.id);
        return v.status === "running" && v.workerId === b.id && (v.progress?.copied ?? 0) >= 5;
      },
      120_000,
    );
    b.kill("SIGTERM");
    await waitFor("B to be draining", async () => (b.events.some((e) => e.signal === 1) ? true : undefined));
    b.kill("SIGTERM");
    expect(await b.exited).toBe(0);
    const handedBack = await getJob(t.ctx, waiting.id);
    expect(handedBack).toMatchObject({ status: "queued", attempt: 2 });
    const entries = await sql<{
      n: string;
    }>`select count(*) as n from graphile_worker.jobs where key = ${`imapferry:job:${waiting.id}`}`.execute(
      t.ctx.db,
    );
    expect(Number(entries.rows[0]?.n)).toBe(1);
  });
});
