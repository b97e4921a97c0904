import { randomBytes } from "node:crypto";
import { readMailbox, snapshotOfSpec, standardMailboxSpec } from "@imapferry/testkit";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { isImapferryError } from "../src/errors.ts";
import { CHANNELS, type JobEvent, type LogEvent } from "../src/events/channels.ts";
import type { EventHub } from "../src/events/hub.ts";
import type { WorkerHandle } from "../src/queue/worker.ts";
import { cancelJob, createJob, deleteJob, editJob, getJob, rerunJob } from "../src/services/jobs/index.ts";
import { readLog } from "../src/services/logs/logs.ts";
import { getJobReport } from "../src/services/reports/index.ts";
import { createVault } from "../src/vault/vault.ts";
import { useJobWorld } from "./support/engine-worker.ts";
import { createFixtureJob, type ImapFixture, largeUsers, standardUsers } from "./support/imap-fixture.ts";
import { type JobTestContext, waitFor, waitForJobStatus } from "./support/job-context.ts";
import { isProcessAlive } from "./support/process-alive.ts";

let t: JobTestContext;
let imap: ImapFixture;
let worker: WorkerHandle;
let hub: EventHub;
/** Every engine process the worker spawned, in order. */
const enginePids: number[] = [];

useJobWorld(
  (world) => {
    ({ t, imap, worker } = world);
    hub = world.hub!;
  },
  { hub: true, onSpawn: (pid) => enginePids.push(pid) },
);

describe("a job through the worker", () => {
  it("runs to done with statistics, progress totals, a log and the messages on the destination", async () => {
    const users = await standardUsers(imap.pair, "alice");
    const events: JobEvent[] = [];
    const logs: LogEvent[] = [];
    const offJob = hub.subscribe(CHANNELS.job, (e) => events.push(e));
    const offLog = hub.subscribe(CHANNELS.log, (e) => logs.push(e));
    await Promise.all([offJob.ready, offLog.ready]);
    const job = await createFixtureJob(t.ctx, imap, users);
    const done = await waitForJobStatus(t.ctx, job.id, ["done", "failed"]);
    // NOTIFYs arrive in commit order: once the final status event is here, every log event is too.
    await waitFor("the final job event", () =>
      events.some((e) => e.jobId === job.id && e.status === done.status),
    );
    offJob();
    offLog();
    expect(done.errorMessage).toBeNull();
    expect(done.status).toBe("done");
    expect(done).toMatchObject({ exitCode: 0, errorCategory: "ok", attempt: 1 });
    const expected = snapshotOfSpec(standardMailboxSpec());
    const total = expected.folders.reduce((n, f) => n + f.messages.length, 0);
    // Messages without a Message-ID are skipped unless addHeader is set (imapsync's rule, kept by the
    // built-in engine); everything else must arrive byte for byte.
    const skipped = Number(done.stats?.unidentifiedOnSource ?? 0);
    expect(done.stats).toMatchObject({ messagesTransferred: total - skipped, messagesSkipped: skipped });
    expect(done.progress).toMatchObject({ total, copied: total - skipped, skipped });
    const dest = await readMailbox(imap.pair.destination, users.dest.user, users.dest.password);
    const sourceHashes = new Set(
      expected.folders.flatMap((f) => f.messages.map((m) => `${f.path}:${m.sha256}`)),
    );
    const destHashes = dest.folders.flatMap((f) => f.messages.map((m) => `${f.path}:${m.sha256}`));
    expect(destHashes).toHaveLength(total - skipped);
    for (const h of destHashes) expect(sourceHashes.has(h)).toBe(true);

    // The check after the run found every source message on the destination, folder by folder.
    const report = await getJobReport(t.ctx, { id: job.id });
    expect(report.verification).toMatchObject({ missing: 0, sourceMessages: total, destMessages: total });
    expect(report.verification?.folders.length).toBe(expected.folders.length);
    const log = await readLog(t.ctx, job.id, 0, 10 * 1024 * 1024);
    const text = log.chunks.map((c) => c.text).join("");
    expect(text).toContain("attempt 1 on");
    expect(text).not.toContain(users.source.password);
    expect(text).not.toContain(users.dest.password);
    expect(log.nextOffset).toBe(done.logBytes);
    // Every flush was announced with its offset; together they cover the log without a gap.
    const announced = logs.filter((l) => l.jobId === job.id).sort((a, b) => a.offset - b.offset);
    let next = 0;
    for (const l of announced) {
      expect(l.offset).toBe(next);
      next += l.bytes;
    }
    expect(next).toBe(done.logBytes);
    const statuses = events.filter((e) => e.jobId === job.id).map((e) => e.status);
    expect(statuses[0]).toBe("queued");
    expect(statuses).toContain("running");
    expect(statuses.at(-1)).toBe("done");
    // The notification task was queued in the same transaction as the status.
    const queued = await sql<{
      n: string;
    }>`select count(*) as n from graphile_worker._private_jobs j join graphile_worker._private_tasks k on k.id = j.task_id where k.identifier = 'notify_job_end' and j.payload->>'jobId' = ${String(job.id)}`.execute(
      t.ctx.db,
    );
    expect(Number(queued.rows[0]?.n)).toBe(1);
  });

  it("fails with the operator's sentence when the source password is wrong, and reruns as a dry run", async () => {
    const users = await standardUsers(imap.pair, "bob");
    const job = await createFixtureJob(t.ctx, imap, users, { sourcePassword: "wrong password" });
    const failed = await waitForJobStatus(t.ctx, job.id, ["done", "failed"]);
    expect(failed.status).toBe("failed");
    expect(failed.errorCategory).toBe("source-auth");
    expect(failed.errorMessage).toContain(users.source.user);
    expect(failed.errorMessage).not.toContain("wrong password");

    await editJob(t.ctx, { id: job.id, sourcePassword: users.source.password, destPassword: "" });
    const rerun = await rerunJob(t.ctx, { id: job.id, dryRun: true });
    expect(rerun).toMatchObject({ rerunOf: job.id, dryRun: true });
    const done = await waitForJobStatus(t.ctx, rerun.id, ["done", "failed"]);
    expect(done.status).toBe("done");
    const dest = await readMailbox(imap.pair.destination, users.dest.user, users.dest.password);
    expect(dest.folders.flatMap((f) => f.messages)).toHaveLength(0);
  });

  it("cancels a running job: the engine process is gone, the job is cancelled, the destination keeps what was copied", async () => {
    const users = await largeUsers(imap.pair, "carol", 200);
    const job = await createFixtureJob(t.ctx, imap, users, { options: { maxMessagesPerSecond: 20 } });
    const spawnedBefore = enginePids.length;
    await waitFor(
      "some messages copied",
      async () => ((await getJob(t.ctx, job.id)).progress?.copied ?? 0) >= 5,
      120_000,
    );
    const pid = enginePids.at(-1)!;
    expect(enginePids.length).toBeGreaterThan(spawnedBefore);
    try {
      await editJob(t.ctx, { id: job.id, destEmail: "other@new.example" });
      throw new Error("expected CONFLICT");
    } catch (e: unknown) {
      expect(isImapferryError(e) && e.code).toBe("CONFLICT");
    }
    await cancelJob(t.ctx, { id: job.id });
    const cancelled = await waitForJobStatus(t.ctx, job.id, ["cancelled", "done", "failed"]);
    expect(cancelled.status).toBe("cancelled");
    expect(isProcessAlive(pid)).toBe(false);
    const dest = await readMailbox(imap.pair.destination, users.dest.user, users.dest.password);
    const copied = dest.folders.flatMap((f) => f.messages).length;
    expect(copied).toBeGreaterThan(0);
    expect(copied).toBeLessThan(200);
  });

  it("fails a job with a clear sentence when the worker cannot decrypt its passwords", async () => {
    // Created where another key is configured: the worker here does not have it. (Changing the
    // secret after createJob would race the worker, which may start the job first.)
    const otherMachine = createVault({ keys: { otherkey: randomBytes(32) }, currentKeyId: "otherkey" });
    const job = await createJob(
      { ...t.ctx, vault: otherMachine },
      {
        sourceServerId: imap.sourceServerId,
        sourceEmail: "nobody@old.example",
        sourcePassword: "x",
        destServerId: imap.destServerId,
        destEmail: "nobody@new.example",
        destPassword: "y",
      },
    );
    const failed = await waitForJobStatus(t.ctx, job.id, ["done", "failed"]);
    expect(failed).toMatchObject({ status: "failed", errorCategory: "worker-key" });
    expect(failed.errorMessage).toContain("IMAPFERRY_SECRET_KEY");
  });

  it("hard-deletes a finished job with its logs", async () => {
    const rows = await t.ctx.db.selectFrom("jobs").select("id").where("status", "=", "done").execute();
    const id = rows[0]!.id;
    expect((await readLog(t.ctx, id, 0)).chunks.length).toBeGreaterThan(0);
    await deleteJob(t.ctx, { id, hard: true });
    expect(
      await t.ctx.db.selectFrom("job_logs").select("id").where("job_id", "=", id).executeTakeFirst(),
    ).toBeUndefined();
    expect(worker.running).toEqual([]);
  });
});
