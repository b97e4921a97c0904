import { generateLargeMailbox, readMailbox } from "@imapferry/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ResolvedEngine } from "../src/engines/select-engine.ts";
import { resolveEngine } from "../src/engines/select-engine.ts";
import { startWorker, type WorkerHandle } from "../src/queue/worker.ts";
import { getJobBudgetUsage } from "../src/services/budgets/index.ts";
import { getJob } from "../src/services/jobs/index.ts";
import type { JobView } from "../src/services/jobs/job-view.ts";
import { readLog } from "../src/services/logs/logs.ts";
import { createServer, updateServer } from "../src/services/servers/servers.ts";
import { updateSettings } from "../src/services/settings/settings.ts";
import {
  createFixtureJob,
  type ImapFixture,
  type MailboxUsers,
  startImapFixture,
} from "./support/imap-fixture.ts";
import { createJobTestContext, type JobTestContext, waitFor } from "./support/job-context.ts";

// A source account with a daily download budget of 5 MB and a ~20 MB mailbox: with a short budget
// window, the copy is spread over several windows, the job waits between them without counting
// retries, and the destination ends with every source message exactly once.

const IMAPSYNC_BIN = process.env.IMAPSYNC_BIN;
const BUDGET_BYTES = 5_000_000;
const WINDOW_SECONDS = 6;
const MAX_MESSAGE_BYTES = 400_000;

let t: JobTestContext;
let imap: ImapFixture;

beforeAll(async () => {
  t = await createJobTestContext();
  imap = await startImapFixture(t.ctx);
  await updateSettings(t.ctx, { budgetWindowSeconds: WINDOW_SECONDS, retryMaxAttempts: 2 });
});
afterAll(async () => {
  await imap?.stop();
  await t?.close();
});

async function budgetUsers(name: string, seed: number): Promise<{ users: MailboxUsers; totalBytes: number }> {
  const source = await imap.pair.source.addUser(`${name}@old.example`, `src-${name}-pw`);
  const dest = await imap.pair.destination.addUser(`${name}@new.example`, `dst-${name}-pw`);
  const mailbox = generateLargeMailbox({
    messages: 300,
    folders: 3,
    seed,
    averageSize: 65_000,
    maxSize: 400_000,
  });
  await imap.pair.source.seedMaildir(source.user, mailbox);
  return { users: { source, dest }, totalBytes: mailbox.totalBytes };
}

async function messagesOn(side: "source" | "destination", users: MailboxUsers): Promise<string[]> {
  const server = side === "source" ? imap.pair.source : imap.pair.destination;
  const login = side === "source" ? users.source : users.dest;
  const mailbox = await readMailbox(server, login.user, login.password);
  return mailbox.folders.flatMap((f) => f.messages.map((m) => `${f.path}:${m.sha256}`)).sort();
}

/** The job's states as a poll sees them, until it ends: each waiting spell once, with its resume time. */
async function followJob(jobId: number): Promise<{ end: JobView; waits: JobView[] }> {
  const waits: JobView[] = [];
  const end = await waitFor(
    `job ${jobId} to end`,
    async () => {
      const job = await getJob(t.ctx, jobId);
      if (job.status === "waiting" && waits.at(-1)?.attempt !== job.attempt) waits.push(job);
      return ["done", "failed", "incomplete", "cancelled"].includes(job.status) ? job : undefined;
    },
    300_000,
  );
  return { end, waits };
}

/** A budget stop in a job's log, with the time it resumes at (UTC, to the second). */
const BUDGET_STOP_LINE =
  /^\[imapferry\] \S+ waiting \(exit \d+\) after [\d.]+ s: .* reached its download budget of 5 MB per window\. The migration resumes by itself at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/gm;

/** The whole log of a job, every attempt's lines. */
async function logOf(jobId: number): Promise<string> {
  return (await readLog(t.ctx, jobId, 0, 10 * 1024 * 1024)).chunks.map((chunk) => chunk.text).join("");
}

const engines: { name: string; enabled: boolean; resolve: () => Promise<ResolvedEngine> }[] = [
  { name: "the built-in engine", enabled: true, resolve: () => resolveEngine({ engine: "builtin" }) },
  {
    name: "imapsync",
    enabled: Boolean(IMAPSYNC_BIN),
    resolve: () =>
      resolveEngine({ engine: "imapsync", ...(IMAPSYNC_BIN ? { imapsyncBin: IMAPSYNC_BIN } : {}) }),
  },
];

/** Bytes counted so far against a server's accounts, over every window, in one direction. */
async function usageOn(serverId: number, direction: "download" | "upload"): Promise<number> {
  const rows = await t.ctx.db
    .selectFrom("account_usage")
    .select("bytes")
    .where("server_id", "=", serverId)
    .where("direction", "=", direction)
    .execute();
  return rows.reduce((sum, row) => sum + Number(row.bytes), 0);
}

describe("a source account with a daily download budget", () => {
  let worker: WorkerHandle | undefined;
  afterEach(async () => {
    await worker?.stop({ handBack: true });
    worker = undefined;
  });

  it("a run handed back by a stopping worker still counts what it copied against the accounts' budgets", async () => {
    worker = await startWorker({
      ctx: t.ctx,
      engine: await engines[0]!.resolve(),
      concurrency: 1,
      heartbeatMs: 500,
    });
    const { users, totalBytes } = await budgetUsers("budget-handback", 50);
    const source = await createServer(t.ctx, {
      name: "source of a handed-back run",
      host: imap.pair.source.host,
      port: imap.pair.source.tlsPort,
      security: "tls",
      acceptSelfSigned: true,
      dailyDownloadBytes: 1_000_000_000,
    });
    const job = await createFixtureJob(t.ctx, imap, users, {
      sourceServerId: source.id,
      options: { maxMessagesPerSecond: 20 },
    });
    await waitFor(
      "the job to copy some messages",
      async () => ((await getJob(t.ctx, job.id)).progress?.copied ?? 0) >= 20,
      120_000,
    );
    await worker.stop({ handBack: true });
    worker = undefined;
    // No outcome was written for that run, but its bytes went over the wire.
    const handedBack = await getJob(t.ctx, job.id);
    expect(handedBack.status).not.toBe("done");
    const afterHandback = await usageOn(source.id, "download");
    expect(afterHandback).toBeGreaterThan(0);

    worker = await startWorker({
      ctx: t.ctx,
      engine: await engines[0]!.resolve(),
      concurrency: 1,
      heartbeatMs: 500,
    });
    const { end } = await followJob(job.id);
    expect(end.status, end.errorMessage ?? "").toBe("done");
    expect(await messagesOn("destination", users)).toEqual(await messagesOn("source", users));
    // Both runs counted: together at least the whole mailbox.
    expect(await usageOn(source.id, "download")).toBeGreaterThanOrEqual(totalBytes * 0.95);
  }, 360_000);

  for (const [index, engine] of engines.entries()) {
    it.skipIf(!engine.enabled)(
      `run by ${engine.name}: spreads a 20 MB mailbox over budget windows, waiting between them, and copies every message once`,
      async () => {
        worker = await startWorker({
          ctx: t.ctx,
          engine: await engine.resolve(),
          concurrency: 1,
          heartbeatMs: 500,
        });
        const { users, totalBytes } = await budgetUsers(`budget-${index}`, 40 + index);
        expect(totalBytes).toBeGreaterThan(15_000_000);
        const source = await createServer(t.ctx, {
          name: `budgeted source ${index}`,
          host: imap.pair.source.host,
          port: imap.pair.source.tlsPort,
          security: "tls",
          acceptSelfSigned: true,
          dailyDownloadBytes: BUDGET_BYTES,
        });
        const job = await createFixtureJob(t.ctx, imap, users, { sourceServerId: source.id });

        const { end, waits } = await followJob(job.id);
        expect(end.status, end.errorMessage ?? "").toBe("done");
        // At least three budget stops for 20 MB at 5 MB a window; none counted as a retry. Counted in the
        // job's log, which keeps every attempt: polling the row can miss a wait that ends within a poll
        // (a stop just before a window resets), and on a loaded machine it did.
        const log = await logOf(job.id);
        const budgetStops = [...log.matchAll(BUDGET_STOP_LINE)];
        expect(budgetStops.length, log).toBeGreaterThanOrEqual(3);
        for (const [, resumesAt] of budgetStops) {
          expect(Date.parse(`${resumesAt}Z`) % (WINDOW_SECONDS * 1000), resumesAt).toBe(0);
        }
        expect(end.autoRetries, log).toBe(0);
        // The waits polling saw, as the row shows them.
        expect(waits.length).toBeGreaterThanOrEqual(1);
        for (const wait of waits) {
          expect(wait.errorCategory).toBe("daily-budget");
          expect(wait.errorMessage).toMatch(
            new RegExp(
              `^The source account ${users.source.user} on budgeted source ${index} reached its download budget of 5 MB per window\\. The migration resumes by itself at `,
            ),
          );
          // It resumes when the window resets: a window boundary, within one window of the stop.
          const resumeAt = wait.resumeAt!.getTime();
          expect(resumeAt % (WINDOW_SECONDS * 1000)).toBe(0);
          expect(resumeAt - wait.finishedAt!.getTime()).toBeLessThanOrEqual(WINDOW_SECONDS * 1000 + 1000);
        }
        // Every run after a wait started no sooner than the window reset.
        expect(end.startedAt!.getTime()).toBeGreaterThanOrEqual(waits.at(-1)!.resumeAt!.getTime());
        expect(await messagesOn("destination", users)).toEqual(await messagesOn("source", users));

        // No window got more than its budget: the built-in engine stops before the message that would
        // cross it; imapsync (--exitwhenover) after it, so by at most one message.
        const windows = await t.ctx.db
          .selectFrom("account_usage")
          .select(["window_start", "bytes"])
          .where("server_id", "=", source.id)
          .where("direction", "=", "download")
          .execute();
        const overshoot = engine.name === "imapsync" ? MAX_MESSAGE_BYTES : 0;
        expect(windows.length).toBeGreaterThanOrEqual(Math.ceil(totalBytes / (BUDGET_BYTES + overshoot)));
        for (const w of windows) expect(Number(w.bytes)).toBeLessThanOrEqual(BUDGET_BYTES + overshoot);
        const copied = windows.reduce((sum, w) => sum + Number(w.bytes), 0);
        expect(copied).toBeGreaterThanOrEqual(totalBytes * 0.95);

        const usage = await getJobBudgetUsage(t.ctx, job.id);
        expect(usage.map((u) => [u.side, u.direction, u.budgetBytes])).toEqual([
          ["source", "download", BUDGET_BYTES],
          ["destination", "upload", null],
        ]);
        await updateServer(t.ctx, { id: source.id, dailyDownloadBytes: null });
      },
      360_000,
    );
  }
});
