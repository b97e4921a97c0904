import { readMailbox, startTcpProxy, type TcpProxy } from "@imapferry/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getJob } from "../src/services/jobs/jobs.ts";
import { readLog } from "../src/services/logs/logs.ts";
import { updateSettings } from "../src/services/settings/settings.ts";
import { createFixtureJob, type ImapFixture, largeUsers, startImapFixture } from "./support/imap-fixture.ts";
import { createJobTestContext, type JobTestContext, waitFor } from "./support/job-context.ts";
import {
  databaseUrlThrough,
  killWorkerProcesses,
  spawnWorkerProcess,
  type WorkerProcess,
} from "./support/spawn-worker.ts";

// A worker whose database goes away for longer than graphile-worker's own retries (about a minute)
// while a migration ends must neither crash nor lose the outcome: it waits for the database and
// writes what it could not write once it is back.

/** Longer than the outage: the engine is not stopped for a lapsed lease, so the run ends inside it. */
const LEASE_SECONDS = 180;
const OUTAGE_MS = 75_000;
const MESSAGES = 60;

let t: JobTestContext;
let imap: ImapFixture;
const processes: WorkerProcess[] = [];
const proxies: TcpProxy[] = [];

beforeAll(async () => {
  t = await createJobTestContext();
  imap = await startImapFixture(t.ctx);
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

describe("a database outage while a migration ends", () => {
  it("leaves the worker running; the job ends done with its whole log as soon as the database is back", async () => {
    const users = await largeUsers(imap.pair, "outage", MESSAGES, 9);
    const target = new URL(t.database.connectionString);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    proxies.push(proxy);
    const worker = await spawnWorkerProcess({
      databaseUrl: databaseUrlThrough(t.database.connectionString, proxy.port),
      secretKey: t.secretKey,
      id: "worker-through-outage",
      concurrency: 1,
      heartbeatMs: 1000,
    });
    processes.push(worker);
    // 60 messages at 6 a second: about ten seconds of copying, all of it inside the outage.
    const job = await createFixtureJob(t.ctx, imap, users, { options: { maxMessagesPerSecond: 6 } });
    await waitFor("the job to copy on the worker", async () => {
      const v = await getJob(t.ctx, job.id);
      return v.status === "running" && (v.progress?.copied ?? 0) > 0;
    });

    // Connections drop and new ones are refused (ECONNREFUSED), as when PostgreSQL restarts slowly.
    await proxy.close();
    const outageStarted = Date.now();
    await waitFor("the outage to pass", () => Date.now() - outageStarted >= OUTAGE_MS, OUTAGE_MS + 10_000);
    // The engine finished long ago; nobody could record it.
    expect((await getJob(t.ctx, job.id)).status).toBe("running");
    expect(worker.child.exitCode).toBeNull();
    proxies.push(
      await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) }, proxy.port),
    );
    const backAt = Date.now();

    const ended = await waitFor(
      "the job to end",
      async () => {
        const v = await getJob(t.ctx, job.id);
        return v.status === "running" ? undefined : v;
      },
      120_000,
    );
    const endedAfterMs = Date.now() - backAt;
    expect(worker.child.exitCode).toBeNull();
    expect(ended).toMatchObject({ status: "done", attempt: 1, workerId: worker.id });
    // Right afterwards: within a few heartbeats, not after a lease or a restart.
    expect(endedAfterMs).toBeLessThan(30_000);
    const destination = await readMailbox(imap.pair.destination, users.dest.user, users.dest.password);
    expect(destination.folders.reduce((n, f) => n + f.messages.length, 0)).toBe(MESSAGES);
    // What the engine printed during the outage is in the log, up to the last line.
    const log = (await readLog(t.ctx, job.id, 0, 1 << 24)).chunks.map((c) => c.text).join("");
    expect(log).toContain("Exiting with return value 0");
    expect(log).toMatch(/\[imapferry\] checked \d+ folders/);
    expect(log).toMatch(/\[imapferry\] \S+ done \(exit 0\)/);
    expect(log.match(/^msg .* copied/gm)?.length ?? 0).toBeGreaterThanOrEqual(MESSAGES);
    // And it still takes work: a new job on the same worker runs to done.
    const next = await createFixtureJob(t.ctx, imap, await largeUsers(imap.pair, "after-outage", 5, 10));
    const nextEnded = await waitFor(
      "a job after the outage to end",
      async () => {
        const v = await getJob(t.ctx, next.id);
        return ["queued", "running"].includes(v.status) ? undefined : v;
      },
      120_000,
    );
    expect(nextEnded).toMatchObject({ status: "done", workerId: worker.id });
  }, 400_000);
});
