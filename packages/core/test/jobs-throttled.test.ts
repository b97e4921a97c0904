import { type ImapFaultProxy, readMailbox, startImapFaultProxy } from "@imapferry/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ResolvedEngine } from "../src/engines/select-engine.ts";
import { resolveEngine } from "../src/engines/select-engine.ts";
import { startWorker, type WorkerHandle } from "../src/queue/worker.ts";
import { getJob, resumeJobNow } from "../src/services/jobs/index.ts";
import { createServer } from "../src/services/servers/servers.ts";
import { updateSettings } from "../src/services/settings/settings.ts";
import {
  createFixtureJob,
  type ImapFixture,
  largeUsers,
  type MailboxUsers,
  startImapFixture,
} from "./support/imap-fixture.ts";
import { createJobTestContext, type JobTestContext, waitFor } from "./support/job-context.ts";

// A source that throttles (Office 365's "Suggested Backoff Time", Gmail's [THROTTLED]): the job
// waits at least as long as the server asked, resumes by itself and ends with every message once.

const IMAPSYNC_BIN = process.env.IMAPSYNC_BIN;
const SUGGESTED_WAIT_MS = 4000;

const engines: { name: string; enabled: boolean; resolve: () => Promise<ResolvedEngine> }[] = [
  { name: "built-in engine", enabled: true, resolve: () => resolveEngine({ engine: "builtin" }) },
  {
    name: "imapsync",
    enabled: Boolean(IMAPSYNC_BIN),
    resolve: () =>
      resolveEngine({ engine: "imapsync", ...(IMAPSYNC_BIN ? { imapsyncBin: IMAPSYNC_BIN } : {}) }),
  },
];

let t: JobTestContext;
let imap: ImapFixture;
const proxies: ImapFaultProxy[] = [];

beforeAll(async () => {
  t = await createJobTestContext();
  imap = await startImapFixture(t.ctx);
  await updateSettings(t.ctx, { retryBaseSeconds: 1, retryMaxAttempts: 5 });
});
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});
afterAll(async () => {
  await imap?.stop();
  await t?.close();
});

async function messagesOn(side: "source" | "destination", users: MailboxUsers): Promise<string[]> {
  const server = side === "source" ? imap.pair.source : imap.pair.destination;
  const login = side === "source" ? users.source : users.dest;
  const mailbox = await readMailbox(server, login.user, login.password);
  return mailbox.folders.flatMap((f) => f.messages.map((m) => `${f.path}:${m.sha256}`)).sort();
}

/** A source server entry that reaches the real source through a fault proxy, armed by `arm`. */
async function proxiedSource(
  name: string,
  arm: (proxy: ImapFaultProxy) => void,
  maxConnections: number | null = 2,
): Promise<{ serverId: number; proxy: ImapFaultProxy }> {
  const proxy = await startImapFaultProxy({ host: imap.pair.source.host, port: imap.pair.source.port });
  proxies.push(proxy);
  arm(proxy);
  // By default two connections per account, one folder at a time: the waits then come one after
  // another, and their count is exact (folders copied at once share a wait).
  const source = await createServer(t.ctx, {
    name,
    host: "127.0.0.1",
    port: proxy.port,
    security: "none",
    maxConnections,
  });
  return { serverId: source.id, proxy };
}

/** A source that answers `count` downloads with NO [THROTTLED] and a suggested wait. */
function throttlingSource(label: string, count: number, waitMs = SUGGESTED_WAIT_MS) {
  return proxiedSource(`throttling source for ${label}`, (proxy) => proxy.throttleDownloads(count, waitMs));
}

/** A worker with one slot, running this engine (0: built-in, 1: imapsync). */
async function startWorkerWith(engine: 0 | 1): Promise<WorkerHandle> {
  return startWorker({
    ctx: t.ctx,
    engine: await engines[engine]!.resolve(),
    concurrency: 1,
    heartbeatMs: 500,
  });
}

function waitForJob(jobId: number, statuses: string[]) {
  return waitFor(
    `job ${jobId} to be ${statuses.join(" or ")}`,
    async () => {
      const v = await getJob(t.ctx, jobId);
      return statuses.includes(v.status) ? v : undefined;
    },
    120_000,
  );
}

async function logOf(jobId: number): Promise<string> {
  const rows = await t.ctx.db
    .selectFrom("job_logs")
    .select("chunk")
    .where("job_id", "=", jobId)
    .orderBy("byte_offset")
    .execute();
  return rows.map((row) => row.chunk).join("");
}

describe("a job whose source throttles", () => {
  let worker: WorkerHandle | undefined;
  afterEach(async () => {
    await worker?.stop({ handBack: true });
    worker = undefined;
  });

  it.skipIf(!IMAPSYNC_BIN)(
    "run by imapsync: waits the server's suggested time, resumes by itself, and completes every message once",
    async () => {
      worker = await startWorkerWith(1);
      const users = await largeUsers(imap.pair, "throttled-imapsync", 30, 31);
      const { serverId, proxy } = await throttlingSource("imapsync", 3);
      const job = await createFixtureJob(t.ctx, imap, users, { sourceServerId: serverId });

      const waiting = await waitForJob(job.id, ["waiting", "done", "failed", "incomplete"]);
      expect(waiting.status, waiting.errorMessage ?? "").toBe("waiting");
      expect(waiting.errorCategory).toBe("throttled");
      expect(waiting.errorMessage).toMatch(
        /^The source server 127\.0\.0\.1 throttled the migration .* and asked to wait 4 s \("NO \[THROTTLED\]/,
      );
      expect(waiting.errorMessage).toMatch(/\(automatic retry 1 of 5\)\.$/);
      // The server's wait, not the 1 s backoff of the settings.
      expect(waiting.resumeAt!.getTime() - waiting.finishedAt!.getTime()).toBeGreaterThanOrEqual(
        SUGGESTED_WAIT_MS - 100,
      );
      expect(proxy.throttled).toBe(3);

      const done = await waitForJob(job.id, ["done", "failed", "incomplete"]);
      expect(done.status, done.errorMessage ?? "").toBe("done");
      expect(done.startedAt!.getTime()).toBeGreaterThanOrEqual(waiting.resumeAt!.getTime());
      expect(await messagesOn("destination", users)).toEqual(await messagesOn("source", users));
    },
    240_000,
  );

  it("run by the built-in engine: honours each suggested wait within the run and ends done in one attempt", async () => {
    worker = await startWorkerWith(0);
    const users = await largeUsers(imap.pair, "throttled-builtin", 30, 32);
    const { serverId, proxy } = await throttlingSource("the built-in engine", 3);
    const job = await createFixtureJob(t.ctx, imap, users, { sourceServerId: serverId });

    // While the engine waits in process, the job shows waiting with the resume time, then running.
    const seen: { status: string; resumeAt: Date | null; attempt: number }[] = [];
    const done = await waitFor(
      `job ${job.id} to end`,
      async () => {
        const v = await getJob(t.ctx, job.id);
        const last = seen.at(-1);
        if (last?.status !== v.status || last.resumeAt?.getTime() !== v.resumeAt?.getTime())
          seen.push({ status: v.status, resumeAt: v.resumeAt, attempt: v.attempt });
        return ["done", "failed", "incomplete"].includes(v.status) ? v : undefined;
      },
      120_000,
    );
    expect(done.status, done.errorMessage ?? "").toBe("done");
    // Each wait spent one of the job's automatic retries, within the one attempt.
    expect(done).toMatchObject({ attempt: 1, autoRetries: 3 });
    const waits = seen.filter((s) => s.status === "waiting");
    expect(waits.length).toBeGreaterThanOrEqual(2);
    for (const wait of waits) {
      expect(wait.attempt).toBe(1);
      expect(wait.resumeAt).not.toBeNull();
    }
    // Back to running after each wait, within the same attempt: the engine says so after every wait
    // (the worker clears resume_at then). Polling may not catch the running moments between waits that
    // follow each other, or after the last one when the rest of the copy is quick, so the log is the proof.
    const log = await logOf(job.id);
    expect(log.match(/^Host1: waited \d+(?:\.\d+)? s; trying again$/gm)).toHaveLength(3);
    expect(done.resumeAt).toBeNull();
    expect(proxy.throttled).toBe(3);
    // It waited as asked before each retry (imapflow's throttle handling), rather than hammering on.
    const ranMs = done.finishedAt!.getTime() - done.startedAt!.getTime();
    expect(ranMs).toBeGreaterThanOrEqual(3 * SUGGESTED_WAIT_MS - 500);
    expect(await messagesOn("destination", users)).toEqual(await messagesOn("source", users));
  }, 240_000);

  it("run by the built-in engine: Office 365's BYE with a suggested wait, twice, is waited out before reconnecting, and the run ends done", async () => {
    worker = await startWorkerWith(0);
    const users = await largeUsers(imap.pair, "throttled-bye", 30, 34);
    const { serverId, proxy } = await proxiedSource("source that hangs up with a backoff", (p) =>
      p.throttleDownloadsWithBye(2, SUGGESTED_WAIT_MS),
    );
    const job = await createFixtureJob(t.ctx, imap, users, { sourceServerId: serverId });

    let waitingSeen: Date | null = null;
    const done = await waitFor(
      `job ${job.id} to end`,
      async () => {
        const v = await getJob(t.ctx, job.id);
        if (v.status === "waiting" && v.attempt === 1) waitingSeen ??= v.resumeAt;
        return ["done", "failed", "incomplete"].includes(v.status) ? v : undefined;
      },
      120_000,
    );
    expect(done.status, done.errorMessage ?? "").toBe("done");
    // One automatic retry for each reconnection.
    expect(done).toMatchObject({ attempt: 1, autoRetries: 2 });
    expect(proxy.throttled).toBe(2);
    expect(waitingSeen).not.toBeNull();
    // Each reconnect came only after the server's suggested wait.
    expect(done.finishedAt!.getTime() - done.startedAt!.getTime()).toBeGreaterThanOrEqual(
      2 * SUGGESTED_WAIT_MS - 500,
    );
    const reconnects = proxy.commands.filter((c) => c === "LOGIN" || c === "AUTHENTICATE").length;
    expect(reconnects).toBeGreaterThanOrEqual(3);
    expect(await messagesOn("destination", users)).toEqual(await messagesOn("source", users));
  }, 240_000);

  it("run by the built-in engine: waits in process spend the job's automatic retries, and past the policy's the job fails saying so", async () => {
    await updateSettings(t.ctx, { retryMaxAttempts: 2 });
    try {
      worker = await startWorkerWith(0);
      const users = await largeUsers(imap.pair, "throttled-spent", 30, 35);
      const { serverId, proxy } = await throttlingSource("a spent retry budget", 5);
      const job = await createFixtureJob(t.ctx, imap, users, { sourceServerId: serverId });

      const failed = await waitForJob(job.id, ["done", "failed", "incomplete"]);
      expect(failed.status, failed.errorMessage ?? "").toBe("failed");
      expect(failed).toMatchObject({ attempt: 1, autoRetries: 2, errorCategory: "throttled" });
      expect(failed.errorMessage).toMatch(
        /the job has used 2 automatic retries, the most the retry policy allows \(Settings\); rerun it to try again\.$/,
      );
      // Two waits, then the third throttle stopped the run instead of a third wait.
      expect(proxy.throttled).toBe(3);
      const log = await logOf(job.id);
      expect(
        log.match(/^Host1: automatic retry \d of this run \(waiting out the throttle\); \d left$/gm),
      ).toEqual([
        "Host1: automatic retry 1 of this run (waiting out the throttle); 1 left",
        "Host1: automatic retry 2 of this run (waiting out the throttle); 0 left",
      ]);
      expect(log).toMatch(/automatic retries are used up: stopping the run/);
      // What was copied before it stopped is there once, and nothing else.
      const source = await messagesOn("source", users);
      const destination = await messagesOn("destination", users);
      expect(new Set(destination).size).toBe(destination.length);
      for (const message of destination) expect(source).toContain(message);
    } finally {
      await updateSettings(t.ctx, { retryMaxAttempts: 5 });
    }
  }, 240_000);

  it("run by the built-in engine: two folders copied at once and throttled together share one wait and spend one retry", async () => {
    worker = await startWorkerWith(0);
    const users = await largeUsers(imap.pair, "throttled-lanes", 30, 37);
    // The default four connections per account: both folders at once, and both first downloads throttled.
    const { serverId, proxy } = await proxiedSource(
      "throttling source for two lanes",
      (p) => p.throttleDownloads(2, SUGGESTED_WAIT_MS),
      null,
    );
    const job = await createFixtureJob(t.ctx, imap, users, { sourceServerId: serverId });

    const done = await waitForJob(job.id, ["done", "failed", "incomplete"]);
    expect(done.status, done.errorMessage ?? "").toBe("done");
    expect(proxy.throttled).toBe(2);
    const log = await logOf(job.id);
    expect(log).toMatch(/^Copying up to 2 folders at once/m);
    expect(
      log.match(/^Host1: throttled .*: waiting \d+\.\d s in process before trying again$/gm),
    ).toHaveLength(1);
    expect(done).toMatchObject({ attempt: 1, autoRetries: 1 });
    expect(await messagesOn("destination", users)).toEqual(await messagesOn("source", users));
  }, 240_000);

  it("run by the built-in engine: Resume now ends a wait spent in process at once", async () => {
    worker = await startWorkerWith(0);
    const users = await largeUsers(imap.pair, "throttled-resumed", 30, 36);
    // A long wait, but within what the engine waits out in process.
    const { serverId } = await throttlingSource("Resume now", 1, 25_000);
    const job = await createFixtureJob(t.ctx, imap, users, { sourceServerId: serverId });

    const waiting = await waitFor("the engine to wait in process", async () => {
      const v = await getJob(t.ctx, job.id);
      return v.status === "waiting" && v.attempt === 1 ? v : undefined;
    });
    await resumeJobNow(t.ctx, { id: job.id });
    const done = await waitForJob(job.id, ["done", "failed", "incomplete"]);
    expect(done.status, done.errorMessage ?? "").toBe("done");
    expect(done.attempt).toBe(1);
    // It went on before the server's time, because it was asked to.
    expect(done.finishedAt!.getTime()).toBeLessThan(waiting.resumeAt!.getTime());
    expect(await logOf(job.id)).toMatch(
      /^Host1: waited \d+\.\d s of 25\.0 s \(resumed on request\); trying again$/m,
    );
    expect(await messagesOn("destination", users)).toEqual(await messagesOn("source", users));
  }, 240_000);

  it("run by the built-in engine: a suggested wait over 30 s ends the run as waiting until the server's time", async () => {
    worker = await startWorkerWith(0);
    const users = await largeUsers(imap.pair, "throttled-long", 30, 33);
    const { serverId } = await throttlingSource("a long wait", 1, 45_000);
    const job = await createFixtureJob(t.ctx, imap, users, { sourceServerId: serverId });

    // Handed back to the queue (a new attempt), not waited out in the worker.
    await waitFor("the run to be handed back", async () => {
      const v = await getJob(t.ctx, job.id);
      return v.attempt === 2 && v.status === "waiting" ? v : undefined;
    });
    const handedBack = await getJob(t.ctx, job.id);
    expect(handedBack.errorCategory).toBe("throttled");
    expect(handedBack.errorMessage).toMatch(/asked to wait 45 s/);
    expect(handedBack.resumeAt!.getTime() - handedBack.finishedAt!.getTime()).toBeGreaterThanOrEqual(44_900);
    // The run ended well before the server's time.
    expect(handedBack.finishedAt!.getTime() - handedBack.startedAt!.getTime()).toBeLessThan(20_000);

    await resumeJobNow(t.ctx, { id: job.id });
    const done = await waitForJob(job.id, ["done", "failed", "incomplete"]);
    expect(done.status, done.errorMessage ?? "").toBe("done");
    expect(await messagesOn("destination", users)).toEqual(await messagesOn("source", users));
  }, 240_000);
});
