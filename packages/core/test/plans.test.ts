import { readMailbox, type SmtpTestServer, seedMailbox, startSmtpServer } from "@imapferry/testkit";
import { ImapFlow } from "imapflow";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImapferryError } from "../src/errors.ts";
import type { WorkerHandle } from "../src/queue/worker.ts";
import { createBatch } from "../src/services/batches/index.ts";
import { type NotificationWorker, startNotificationWorker } from "../src/services/notifications/index.ts";
import {
  cutOverPlan,
  getPlan,
  type PlanScheduler,
  pausePlan,
  resumePlan,
  setPlan,
  startPlanScheduler,
} from "../src/services/plans/index.ts";
import type { PlanView } from "../src/services/plans/plan-view.ts";
import { updateSettings } from "../src/services/settings/settings.ts";
import { resolveTestEngine, startTestWorker } from "./support/engine-worker.ts";
import {
  createFixtureJob,
  type ImapFixture,
  largeUsers,
  type MailboxUsers,
  startImapFixture,
} from "./support/imap-fixture.ts";
import {
  createJobTestContext,
  type JobTestContext,
  waitFor,
  waitForJobStatus,
} from "./support/job-context.ts";

// A batch plan: delta passes on a schedule while users still work on the old server, then a cutover.
// Real Dovecot on both sides, the real built-in engine, graphile-worker's durable schedule.

let t: JobTestContext;
let imap: ImapFixture;
let worker: WorkerHandle;
const schedulers: PlanScheduler[] = [];
let smtp: SmtpTestServer;
let notifications: NotificationWorker;

beforeAll(async () => {
  t = await createJobTestContext();
  await updateSettings(t.ctx, { planMinIntervalSeconds: 1, notificationRecipients: ["ops@example.com"] });
  imap = await startImapFixture(t.ctx);
  smtp = await startSmtpServer();
  notifications = await startNotificationWorker({
    ctx: t.ctx,
    smtp: { host: smtp.host, port: smtp.port },
    from: "imapferry <ferry@example.com>",
    publicUrl: "http://panel.example",
    pollInterval: 200,
  });
  worker = await startTestWorker(t.ctx, await resolveTestEngine("builtin"));
});

afterAll(async () => {
  for (const scheduler of schedulers) await scheduler.stop();
  await notifications?.stop();
  await smtp?.close();
  await worker?.stop({ handBack: true });
  await imap?.stop();
  await t?.close();
});

async function startSchedulers(n: number): Promise<void> {
  for (let i = 0; i < n; i++) schedulers.push(await startPlanScheduler(t.ctx, { pollIntervalMs: 200 }));
}

async function stopSchedulers(): Promise<void> {
  for (const scheduler of schedulers.splice(0)) await scheduler.stop();
}

/** Every message of the mailbox as folder, content hash and flags, sorted: equal means the same mail. */
async function mailOn(side: "source" | "destination", users: MailboxUsers): Promise<string[]> {
  const server = side === "source" ? imap.pair.source : imap.pair.destination;
  const login = side === "source" ? users.source : users.dest;
  const mailbox = await readMailbox(server, login.user, login.password);
  return mailbox.folders
    .flatMap((f) => f.messages.map((m) => `${f.path} ${m.sha256} ${m.flags.join(",")}`))
    .sort();
}

async function onSource<T>(users: MailboxUsers, work: (client: ImapFlow) => Promise<T>): Promise<T> {
  const client = new ImapFlow(imap.pair.source.imapflowOptions(users.source));
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.logout();
  }
}

/** The ImapferryError the call is refused with (anything else fails the test). */
async function refusal(call: Promise<unknown>): Promise<ImapferryError> {
  const error = await call.then(
    () => new Error("expected a refusal"),
    (e: unknown) => e,
  );
  if (error instanceof ImapferryError) return error;
  throw error;
}

let sequence = 0;
function newMessage(subject: string): string {
  sequence++;
  return [
    "From: Sender <sender@old.example>",
    "To: someone@old.example",
    `Subject: ${subject}`,
    `Message-ID: <plan-${sequence}-${Date.now()}@old.example>`,
    "Date: Mon, 7 Dec 2026 10:00:00 +0000",
    "",
    `Written while the migration was under way (${sequence}).`,
    "",
  ].join("\r\n");
}

/** The mailbox pairs of a batch with how many runs each has had. */
async function runsPerMailbox(batchId: number): Promise<Map<string, number>> {
  const rows = await t.ctx.db
    .selectFrom("jobs")
    .select(["source_email", sql<string>`count(*)`.as("n")])
    .where("batch_id", "=", batchId)
    .groupBy("source_email")
    .execute();
  return new Map(rows.map((r) => [r.source_email, Number(r.n)]));
}

/** Resolves once the plan has run `passes` passes and every latest run of the batch has ended. */
function passesSettled(batchId: number, passes: number, timeoutMs = 120_000): Promise<PlanView> {
  return waitFor(
    `batch ${batchId}'s plan to have run ${passes} passes, each to its end`,
    async () => {
      const plan = await getPlan(t.ctx, { batchId });
      if (!plan || plan.passes < passes) return undefined;
      const busy = await t.ctx.db
        .selectFrom("jobs")
        .select("id")
        .where("batch_id", "=", batchId)
        .where("superseded_by", "is", null)
        .where("status", "in", ["queued", "running", "waiting"])
        .execute();
      return busy.length === 0 ? plan : undefined;
    },
    timeoutMs,
  );
}

/** Each mailbox's latest run: its status, attempt, sentence and what the check after it saw. */
async function latestRuns(batchId: number): Promise<string> {
  const rows = await t.ctx.db
    .selectFrom("jobs")
    // The check's folders too: a folder the source did not list would be missing from both sides of it.
    .select(["id", "source_email", "status", "attempt", "auto_retries", "error_message", "verification"])
    .where("batch_id", "=", batchId)
    .where("superseded_by", "is", null)
    .execute();
  return JSON.stringify(rows);
}

async function batchWithMailboxes(
  tag: string,
  names: string[],
): Promise<{ batchId: number; users: MailboxUsers[] }> {
  const batch = await createBatch(t.ctx, { tag, dryRun: false });
  const users: MailboxUsers[] = [];
  for (const [i, name] of names.entries()) {
    const u = await largeUsers(imap.pair, name, 40, 100 + i);
    users.push(u);
    await createFixtureJob(t.ctx, imap, u, { batchId: batch.id });
  }
  return { batchId: batch.id, users };
}

describe("batch plans", () => {
  it("runs delta passes on schedule, brings new mail and flag changes across without duplicates, and survives a restart between passes with no pass lost or run twice", async () => {
    // Two schedulers, as two processes would run: a pass must still happen once.
    await startSchedulers(2);
    const { batchId, users } = await batchWithMailboxes("plan-delta", ["plan-ann", "plan-ben"]);
    const [ann, ben] = users as [MailboxUsers, MailboxUsers];
    const set = await setPlan(t.ctx, { batchId, intervalSeconds: 2 });
    expect(set.phase).toBe("active");
    expect(set.passes).toBe(0);

    await passesSettled(batchId, 1);
    // How each mailbox's latest run ended, should its mail differ.
    expect(await mailOn("destination", ann), await latestRuns(batchId)).toEqual(await mailOn("source", ann));

    // Between passes: new mail for Ann, and Ben reads (and flags) a message on the old server.
    await onSource(ann, (c) => c.append("INBOX", newMessage("arrived after the first pass"), ["\\Seen"]));
    await onSource(ben, async (c) => {
      await c.mailboxOpen("INBOX");
      await c.messageFlagsAdd("1:2", ["\\Seen", "\\Flagged"]);
    });
    // A pass that starts after the changes were made (one may have been under way while they were).
    await passesSettled(batchId, (await getPlan(t.ctx, { batchId }))!.passes + 1);
    expect(await mailOn("destination", ann)).toEqual(await mailOn("source", ann));
    expect(await mailOn("destination", ben)).toEqual(await mailOn("source", ben));

    // The schedulers stop (every process is down) across the moment the next pass falls due.
    await stopSchedulers();
    const beforeRestart = (await getPlan(t.ctx, { batchId }))!;
    const runsBefore = await runsPerMailbox(batchId);
    await onSource(ann, (c) => c.append("INBOX", newMessage("arrived while imapferry was down")));
    await waitFor("the next pass to fall due", async () => {
      const now = (await sql<{ now: Date }>`select now() as now`.execute(t.ctx.db)).rows[0]!.now;
      return beforeRestart.nextPassAt !== null && now > new Date(beforeRestart.nextPassAt.getTime() + 3000);
    });
    expect((await getPlan(t.ctx, { batchId }))!.passes).toBe(beforeRestart.passes);
    await startSchedulers(2);
    // The pass missed while everything was down runs once on restart, not once per missed interval
    // nor once per process (the next one comes an interval later).
    const caughtUp = await waitFor("the missed pass", async () => {
      const plan = (await getPlan(t.ctx, { batchId }))!;
      return plan.passes > beforeRestart.passes ? plan : undefined;
    });
    expect(caughtUp.passes).toBe(beforeRestart.passes + 1);
    expect(caughtUp.lastPass!.queued).toBe(2);
    await passesSettled(batchId, caughtUp.passes);
    expect(await mailOn("destination", ann)).toEqual(await mailOn("source", ann));

    // No mailbox ever had two runs from one pass: at most the imported run plus one per pass.
    await pausePlan(t.ctx, { batchId });
    const paused = (await getPlan(t.ctx, { batchId }))!;
    expect(paused.phase).toBe("paused");
    const runs = await runsPerMailbox(batchId);
    for (const u of users) expect(runs.get(u.source.user)).toBeLessThanOrEqual(1 + paused.passes);
    expect(runs.get(ann.source.user)).toBeGreaterThan(runsBefore.get(ann.source.user)!);

    // Paused: no pass comes however long we wait past the interval.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect((await getPlan(t.ctx, { batchId }))!.passes).toBe(paused.passes);
    const resumed = await resumePlan(t.ctx, { batchId });
    expect(resumed.phase).toBe("active");
    await passesSettled(batchId, paused.passes + 1);
    await stopSchedulers();
  }, 400_000);

  it("cuts over: one final pass per mailbox that deletes on the destination when asked, the summary counts, and the plan ends", async () => {
    await startSchedulers(1);
    const { batchId, users } = await batchWithMailboxes("plan-cutover", ["plan-cat", "plan-dan"]);
    const [cat] = users as [MailboxUsers, MailboxUsers];
    await setPlan(t.ctx, { batchId, intervalSeconds: 2, deleteOnDestinationAtCutover: true });
    await passesSettled(batchId, 1);

    // The source folder is deleted and recreated (a new UIDVALIDITY) with the same mail plus one more,
    // and one message is expunged from the INBOX: the final pass ends exact, and deletes on the destination.
    await onSource(cat, async (c) => {
      const folders = (await c.list()).map((f) => f.path).filter((p) => p !== "INBOX");
      const folder = folders[0]!;
      await c.mailboxOpen(folder);
      const kept: { source: Buffer; flags: string[] }[] = [];
      for await (const m of c.fetch("1:*", { source: true, flags: true })) {
        kept.push({ source: m.source!, flags: [...(m.flags ?? [])].filter((f) => f !== "\\Recent") });
      }
      await c.mailboxClose();
      await c.mailboxDelete(folder);
      await c.mailboxCreate(folder);
      for (const m of kept) await c.append(folder, m.source, m.flags);
      await c.append(folder, newMessage("in the recreated folder"));
      await c.mailboxOpen("INBOX");
      await c.messageDelete("1");
    });

    const cutting = await cutOverPlan(t.ctx, { batchId });
    expect(cutting.phase).toBe("cutting-over");
    expect(cutting.cutoverStartedAt).not.toBeNull();
    const ended = await waitFor(
      "the cutover to end",
      async () => {
        const plan = await getPlan(t.ctx, { batchId });
        return plan?.phase === "ended" ? plan : undefined;
      },
      180_000,
    );
    expect(ended.outcome).toEqual({ complete: 2, attention: 0 });
    expect(ended.nextPassAt).toBeNull();
    for (const u of users) expect(await mailOn("destination", u)).toEqual(await mailOn("source", u));

    // Every mailbox's latest run is its final run: created after the cutover began, with deletion on.
    const latest = await t.ctx.db
      .selectFrom("jobs")
      .select(["created_at", "options", "status"])
      .where("batch_id", "=", batchId)
      .where("superseded_by", "is", null)
      .execute();
    expect(latest).toHaveLength(2);
    for (const run of latest) {
      expect(run.created_at.getTime()).toBeGreaterThanOrEqual(ended.cutoverStartedAt!.getTime());
      expect(run.options).toMatchObject({ deleteOnDestination: true });
      expect(run.status).toBe("done");
    }

    // The summary email says it in one line.
    const summary = await waitFor("the cutover email", () =>
      smtp.messages.find((m) => m.subject.includes("plan-cutover cut over")),
    );
    expect(summary.subject).toBe(
      "[imapferry] Batch plan-cutover cut over: 2 mailboxes complete, 0 need attention",
    );
    expect(summary.text).toContain(`http://panel.example/jobs?batch=${batchId}`);

    // An ended plan runs no more passes.
    const runs = await runsPerMailbox(batchId);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect(await runsPerMailbox(batchId)).toEqual(runs);
    await stopSchedulers();
  }, 400_000);

  it("pre-stages: the first copy takes only old mail, the delta passes take the rest", async () => {
    const batch = await createBatch(t.ctx, { tag: "plan-prestage", dryRun: false });
    // The plan comes first, as for a migration planned days ahead; no pass may run yet.
    const plan = await setPlan(t.ctx, { batchId: batch.id, intervalSeconds: 2, prestageMinAgeDays: 30 });
    expect(plan.prestageMinAgeDays).toBe(30);
    const source = await imap.pair.source.addUser("plan-fred@old.example", "src-fred-pw");
    const dest = await imap.pair.destination.addUser("plan-fred@new.example", "dst-fred-pw");
    const users: MailboxUsers = { source, dest };
    const message = (n: number, internalDate: string) => ({
      source: `From: a@old.example\r\nSubject: ${n}\r\nMessage-ID: <prestage-${n}@old.example>\r\n\r\nbody ${n}\r\n`,
      internalDate,
    });
    await seedMailbox(imap.pair.source, source.user, source.password, {
      folders: [
        {
          path: "INBOX",
          messages: [
            message(1, "2019-05-01T10:00:00Z"),
            message(2, "2021-07-01T10:00:00Z"),
            message(3, new Date().toISOString()),
          ],
        },
      ],
    });
    const first = await createFixtureJob(t.ctx, imap, users, { batchId: batch.id });
    expect(first.options).toMatchObject({ minAgeDays: 30 });
    const ended = await waitForJobStatus(t.ctx, first.id, ["done", "incomplete", "failed"]);
    expect(ended.status).toBe("done");
    const staged = await readMailbox(imap.pair.destination, dest.user, dest.password);
    expect(staged.folders.find((f) => f.path === "INBOX")?.messages).toHaveLength(2);

    await startSchedulers(1);
    await waitFor("a pass to bring the recent mail", async () => {
      const [d, s] = [await mailOn("destination", users), await mailOn("source", users)];
      return d.length === s.length && d.every((line, i) => line === s[i]);
    });
    const latest = await t.ctx.db
      .selectFrom("jobs")
      .select("options")
      .where("batch_id", "=", batch.id)
      .where("superseded_by", "is", null)
      .executeTakeFirstOrThrow();
    expect(latest.options).not.toHaveProperty("minAgeDays");
    await pausePlan(t.ctx, { batchId: batch.id });
    await stopSchedulers();
  }, 300_000);

  it("refuses bad plans with a sentence and changes nothing", async () => {
    const { batchId } = await batchWithMailboxes("plan-refusals", ["plan-eve"]);
    await updateSettings(t.ctx, { planMinIntervalSeconds: 3600 });
    try {
      const tooOften = await refusal(setPlan(t.ctx, { batchId, intervalSeconds: 600 }));
      expect(tooOften.code).toBe("BAD_INPUT");
      expect(tooOften.message).toBe(
        "Delta passes can run at most every hour (the planMinIntervalSeconds setting); every 10 minutes is too often.",
      );
      const past = await refusal(
        setPlan(t.ctx, { batchId, intervalSeconds: 7200, cutoverAt: "2020-01-01T00:00:00Z" }),
      );
      expect(past.code).toBe("BAD_INPUT");
      expect(past.message).toBe(
        "The cutover time 2020-01-01T00:00:00.000Z has already passed. Give a time in the future, or cut over now.",
      );
      expect(await getPlan(t.ctx, { batchId })).toBeNull();

      const dry = await createBatch(t.ctx, { tag: "plan-dry", dryRun: true });
      const dryRefused = await refusal(setPlan(t.ctx, { batchId: dry.id, intervalSeconds: 7200 }));
      expect(dryRefused.message).toBe(
        `Batch ${dry.id} is a dry run, which copies nothing: run it real before planning delta passes.`,
      );

      await setPlan(t.ctx, { batchId, intervalSeconds: 7200 });
      const notPaused = await refusal(resumePlan(t.ctx, { batchId }));
      expect(notPaused.code).toBe("CONFLICT");
      expect(notPaused.message).toBe(
        `The plan of batch ${batchId} is active. Only a paused plan can be resumed.`,
      );

      // During a cutover the plan cannot change.
      await cutOverPlan(t.ctx, { batchId });
      const during = await refusal(setPlan(t.ctx, { batchId, intervalSeconds: 7200 }));
      expect(during.code).toBe("CONFLICT");
      expect(during.message).toBe(
        `Batch ${batchId} is cutting over; its plan cannot change until the final pass has ended.`,
      );
      const again = await refusal(cutOverPlan(t.ctx, { batchId }));
      expect(again.message).toBe(`Batch ${batchId} is already cutting over.`);
      expect((await getPlan(t.ctx, { batchId }))!.intervalSeconds).toBe(7200);
    } finally {
      await updateSettings(t.ctx, { planMinIntervalSeconds: 1 });
    }
  }, 120_000);
});
