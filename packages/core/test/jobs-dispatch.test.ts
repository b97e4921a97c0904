import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveEngine } from "../src/engines/select-engine.ts";
import { createEventHub, type EventHub } from "../src/events/hub.ts";
import { startWorker, type WorkerHandle } from "../src/queue/worker.ts";
import { editJob, getJob, rerunJob } from "../src/services/jobs/index.ts";
import type { JobView } from "../src/services/jobs/job-view.ts";
import { createServer } from "../src/services/servers/servers.ts";
import {
  createFixtureJob,
  type ImapFixture,
  largeUsers,
  standardUsers,
  startImapFixture,
} from "./support/imap-fixture.ts";
import { createJobTestContext, type JobTestContext, waitFor } from "./support/job-context.ts";

/**
 * Dispatch is meant to be immediate: a job that waited for a source-server slot, or a rerun, starts
 * as soon as it can, not at some later poll. A stall shows up as tens of seconds between the moment
 * the job could start and the moment it did; the bound below is generous on purpose (latency itself
 * is for the benchmarks), it only catches a stall.
 */
const STALL_MS = 15_000;

let t: JobTestContext;
let imap: ImapFixture;
let worker: WorkerHandle;
let hub: EventHub;

beforeAll(async () => {
  t = await createJobTestContext();
  imap = await startImapFixture(t.ctx, { sourceHostLimit: 2 });
  hub = createEventHub(t.ctx.pool);
  const engine = await resolveEngine({ engine: "builtin" });
  // The worker as `imapferry start` runs it: default heartbeat, lease and poll settings.
  worker = await startWorker({ ctx: t.ctx, engine, concurrency: 4, hub });
});

afterAll(async () => {
  await worker?.stop({ handBack: true });
  await hub?.close();
  await imap?.stop();
  await t?.close();
});

function ended(job: JobView): boolean {
  return ["done", "failed", "cancelled", "interrupted"].includes(job.status);
}

async function waitForEnd(jobId: number): Promise<JobView> {
  return waitFor(
    `job ${jobId} to end`,
    async () => {
      const job = await getJob(t.ctx, jobId);
      return ended(job) ? job : undefined;
    },
    300_000,
  );
}

function millisBetween(from: Date | null, to: Date | null): number {
  if (!from || !to) throw new Error("the job has no start or end time");
  return to.getTime() - from.getTime();
}

describe("dispatch", () => {
  it("starts a job that waited for a source-server slot as soon as a slot frees up", async () => {
    const users = [
      await largeUsers(imap.pair, "slot1", 60, 1),
      await largeUsers(imap.pair, "slot2", 60, 2),
      await largeUsers(imap.pair, "slot3", 20, 3),
    ];
    // Slow enough that the first two are still running when the third is picked up and told to wait.
    const jobs: JobView[] = [];
    for (const u of users)
      jobs.push(await createFixtureJob(t.ctx, imap, u, { options: { maxMessagesPerSecond: 20 } }));
    const [first, second, third] = await Promise.all(jobs.map((j) => waitForEnd(j.id)));
    expect([first?.status, second?.status, third?.status]).toEqual(["done", "done", "done"]);
    // The third could start when the first of the other two ended.
    const slotFreed = Math.min(first!.finishedAt!.getTime(), second!.finishedAt!.getTime());
    expect(third!.startedAt!.getTime()).toBeGreaterThanOrEqual(slotFreed);
    const delay = third!.startedAt!.getTime() - slotFreed;
    console.info(`[dispatch] third job started ${delay} ms after a slot freed up`);
    expect(delay).toBeLessThan(STALL_MS);
  });

  it("counts the limit per host: a second server entry for the same host shares its slots", async () => {
    const alias = await createServer(t.ctx, {
      name: "source under another name",
      host: imap.pair.source.host.toUpperCase(),
      port: imap.pair.source.tlsPort,
      security: "tls",
      acceptSelfSigned: true,
      sourceHostLimit: 2,
    });
    const users = [
      await largeUsers(imap.pair, "host1", 40, 4),
      await largeUsers(imap.pair, "host2", 40, 5),
      await largeUsers(imap.pair, "host3", 10, 6),
    ];
    const slow = { options: { maxMessagesPerSecond: 20 } };
    const jobs = [
      await createFixtureJob(t.ctx, imap, users[0]!, slow),
      await createFixtureJob(t.ctx, imap, users[1]!, slow),
      await createFixtureJob(t.ctx, imap, users[2]!, { ...slow, sourceServerId: alias.id }),
    ];
    const [first, second, third] = await Promise.all(jobs.map((j) => waitForEnd(j.id)));
    expect([first?.status, second?.status, third?.status]).toEqual(["done", "done", "done"]);
    const slotFreed = Math.min(first!.finishedAt!.getTime(), second!.finishedAt!.getTime());
    expect(third!.startedAt!.getTime()).toBeGreaterThanOrEqual(slotFreed);
  });

  it("starts the rerun of an edited failed job at once", async () => {
    const u = await standardUsers(imap.pair, "edited");
    const job = await createFixtureJob(t.ctx, imap, u, { sourcePassword: "not the password" });
    const failed = await waitForEnd(job.id);
    expect(failed.status).toBe("failed");
    await editJob(t.ctx, { id: job.id, sourcePassword: u.source.password });
    const rerun = await rerunJob(t.ctx, { id: job.id });
    const done = await waitForEnd(rerun.id);
    expect(done.status).toBe("done");
    const delay = millisBetween(done.createdAt, done.startedAt);
    console.info(`[dispatch] rerun started ${delay} ms after it was queued`);
    expect(delay).toBeLessThan(STALL_MS);
  });
});
