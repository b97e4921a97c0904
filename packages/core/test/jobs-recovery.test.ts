import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ResolvedEngine, resolveEngine } from "../src/engines/select-engine.ts";
import { defaultEngineRunner, type EngineRunner } from "../src/queue/engine-run.ts";
import { type StartWorkerOptions, startWorker, type WorkerHandle } from "../src/queue/worker.ts";
import { createBatch } from "../src/services/batches/batches.ts";
import { type CreateJobInput, getJob } from "../src/services/jobs/index.ts";
import { readLog } from "../src/services/logs/logs.ts";
import { getSettings, updateSettings } from "../src/services/settings/settings.ts";
import { recoverInterruptedJobs } from "../src/services/workers/workers.ts";
import { createFixtureJob, type ImapFixture, largeUsers, startImapFixture } from "./support/imap-fixture.ts";
import {
  createJobTestContext,
  type JobTestContext,
  waitFor,
  waitForJobStatus,
} from "./support/job-context.ts";

let t: JobTestContext;
let imap: ImapFixture;
let engine: ResolvedEngine;
const workers: WorkerHandle[] = [];
/** Engine processes started, per job id (from the spec's source user). */
let spawns: string[] = [];

function countingRunner(): EngineRunner {
  const real = defaultEngineRunner(engine);
  return {
    preflight: real.preflight!,
    run: (input) => real.run({ ...input, onSpawn: () => spawns.push(input.spec.source.user) }),
  };
}

async function worker(options: Partial<StartWorkerOptions> = {}): Promise<WorkerHandle> {
  const w = await startWorker({
    ctx: t.ctx,
    engine,
    concurrency: 2,
    heartbeatMs: 300,
    engineRunner: countingRunner(),
    ...options,
  });
  workers.push(w);
  return w;
}

async function newJob(name: string, messages: number, extra: Partial<CreateJobInput> = {}) {
  const users = await largeUsers(imap.pair, name, messages, name.length);
  return createFixtureJob(t.ctx, imap, users, extra);
}

function waitForEnd(id: number) {
  return waitForJobStatus(t.ctx, id, ["done", "failed", "cancelled", "interrupted"], 180_000);
}

async function queueEntries(jobId: number): Promise<number> {
  const r = await sql<{
    n: string;
  }>`select count(*) as n from graphile_worker.jobs where key = ${`imapferry:job:${jobId}`}`.execute(
    t.ctx.db,
  );
  return Number(r.rows[0]?.n);
}

/** Deletes the job's graphile-worker entry, as if it had been lost. */
async function dropQueueEntry(jobId: number): Promise<void> {
  await sql`delete from graphile_worker._private_jobs where key = ${`imapferry:job:${jobId}`}`.execute(
    t.ctx.db,
  );
}

/** Leaves the job running on a worker that is gone: its lease ran out a minute ago. */
async function strandOnGoneWorker(jobId: number): Promise<void> {
  await t.ctx.db
    .updateTable("jobs")
    .set({
      status: "running",
      worker_id: "gone-worker",
      lease_expires_at: sql<Date>`now() - interval '1 minute'`,
    })
    .where("id", "=", jobId)
    .execute();
}

beforeAll(async () => {
  t = await createJobTestContext();
  imap = await startImapFixture(t.ctx);
  engine = await resolveEngine({ engine: "builtin" });
  // Short enough for the tests of stranded jobs, long enough that a loaded machine's slow heartbeats
  // never cost a healthy worker its lease.
  await updateSettings(t.ctx, { leaseSeconds: 10 });
});
afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop({ handBack: true });
  spawns = [];
});
afterAll(async () => {
  await imap?.stop();
  await t?.close();
});

describe("long migrations and recovery", () => {
  it("never starts a migration twice when graphile-worker re-hands its entry after the 4-hour lock", async () => {
    const a = await worker();
    const job = await newJob("longrun", 60, { options: { maxMessagesPerSecond: 15 } });
    await waitFor("the job to run on A", async () => {
      const v = await getJob(t.ctx, job.id);
      return v.status === "running" && (v.progress?.copied ?? 0) >= 3;
    });
    // Age the lock as if the migration had been running for five hours.
    const aged =
      await sql`update graphile_worker._private_jobs set locked_at = now() - interval '5 hours' where key = ${`imapferry:job:${job.id}`}`.execute(
        t.ctx.db,
      );
    expect(Number(aged.numAffectedRows)).toBe(1);
    // B sweeps stale locks at once, picks the entry up again, finds a live lease and leaves it alone.
    await worker({
      graphile: { minResetLockedInterval: 50, maxResetLockedInterval: 100, pollInterval: 100 },
    });
    await waitFor("the re-handed entry to be consumed", async () => (await queueEntries(job.id)) === 0);
    expect((await getJob(t.ctx, job.id)).status).toBe("running");
    const done = await waitForEnd(job.id);
    expect(done).toMatchObject({ status: "done", attempt: 1, workerId: a.id });
    expect(spawns.filter((u) => u.startsWith("longrun@"))).toHaveLength(1);
    const text = (await readLog(t.ctx, job.id, 0, 1 << 24)).chunks.map((c) => c.text).join("");
    expect(text.match(/attempt \d+ on/g)).toHaveLength(1);
  });

  it("at start-up, interrupts and resumes running rows whose worker is gone, and re-enqueues queued rows that lost their entry", async () => {
    const orphan = await newJob("orphan", 10);
    await dropQueueEntry(orphan.id);
    const ghost = await newJob("ghost", 10);
    await dropQueueEntry(ghost.id);
    await strandOnGoneWorker(ghost.id);
    await worker();
    const [o, g] = await Promise.all([waitForEnd(orphan.id), waitForEnd(ghost.id)]);
    expect(o).toMatchObject({ status: "done", attempt: 1 });
    expect(g).toMatchObject({ status: "done", attempt: 2 });
    const text = (await readLog(t.ctx, ghost.id, 0)).chunks.map((c) => c.text).join("");
    expect(text).toContain("stopped responding during attempt 1");
  });

  it("leaves an interrupted job alone when auto-resume is off", async () => {
    const job = await newJob("noresume", 5);
    await dropQueueEntry(job.id);
    await strandOnGoneWorker(job.id);
    const settings = { ...(await getSettings(t.ctx)), autoResume: false };
    const result = await recoverInterruptedJobs(t.ctx, settings);
    expect(result).toMatchObject({ interrupted: [job.id], resumed: [] });
    expect(await getJob(t.ctx, job.id)).toMatchObject({
      status: "interrupted",
      errorCategory: "interrupted",
    });
    expect(await queueEntries(job.id)).toBe(0);
  });

  it("routes a tenant's batch to its pool: only that pool's workers take its jobs", async () => {
    await updateSettings(t.ctx, { tenantPools: { bigcorp: "dedicated" } });
    const batch = await createBatch(t.ctx, { tag: "bigcorp-wave", tenant: "bigcorp" });
    expect(batch.pool).toBe("dedicated");
    const general = await worker();
    const routed = await newJob("routed", 5, { batchId: batch.id });
    const plain = await newJob("plain", 5);
    expect(routed.pool).toBe("dedicated");
    expect(await waitForEnd(plain.id)).toMatchObject({ status: "done", workerId: general.id });
    expect((await getJob(t.ctx, routed.id)).status).toBe("queued");
    const dedicated = await worker({ pool: "dedicated" });
    expect(await waitForEnd(routed.id)).toMatchObject({ status: "done", workerId: dedicated.id });
  });

  it("starts queued jobs first in, first out, a higher priority first", async () => {
    const jobs: Awaited<ReturnType<typeof newJob>>[] = [];
    for (let i = 0; i < 4; i++) jobs.push(await newJob(`fifo${i}`, 2));
    const urgent = await newJob("urgent", 2, { priority: 10 });
    await worker({ concurrency: 1 });
    const ended = await Promise.all([...jobs, urgent].map((j) => waitForEnd(j.id)));
    expect(ended.every((j) => j.status === "done")).toBe(true);
    // Each ran once: a run taken away and requeued would start again later, out of order.
    expect(ended.map((j) => j.attempt)).toEqual(ended.map(() => 1));
    const order = [...ended].sort((a, b) => a.startedAt!.getTime() - b.startedAt!.getTime()).map((j) => j.id);
    expect(order).toEqual([urgent.id, ...jobs.map((j) => j.id)]);
  });
});
