import type { TestDatabase } from "@imapferry/db/testing";
import { type ReceivedMail, type SmtpTestServer, startSmtpServer } from "@imapferry/testkit";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Logger, ServiceContext } from "../src/context.ts";
import {
  type NotificationWorker,
  notificationStatus,
  queueBatchEndCheck,
  queueJobEndNotification,
  recordWatch,
  type SmtpConfig,
  startNotificationWorker,
} from "../src/services/notifications/index.ts";
import { createJobTestContext } from "./support/job-context.ts";

const SMTP_USER = "notifier";
const SMTP_PASSWORD = "smtp-Pa55word-never-in-mail";
const SOURCE_PASSWORD = "src-Secret-4a1f9c";
const DEST_PASSWORD = "dst-Secret-77be02";
const RECIPIENTS = ["ops@example.com", "lead@example.com"];
const FROM = "imapferry <imapferry@ferry.example>";
const PUBLIC_URL = "https://ferry.example/";

/** Polls a condition until it holds; the deadline turns a hang into a readable failure. */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  deadlineMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every log line, to check no secret is ever logged (graphile-worker's lines come through it too). */
function captureLogs(): { lines: string[]; log: Logger } {
  const lines: string[] = [];
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  };
  return { lines, log: { info: write("info"), warn: write("warn"), error: write("error") } };
}

interface Harness {
  database: TestDatabase;
  ctx: ServiceContext;
  worker: NotificationWorker;
  logs: string[];
  sourceServerId: number;
  destServerId: number;
}

async function startHarness(smtp: SmtpConfig | undefined): Promise<Harness> {
  const logs = captureLogs();
  const { database, ctx } = await createJobTestContext({ log: logs.log });
  const servers = await database.db
    .insertInto("servers")
    .values([
      { name: "old", host: "imap.old.example", port: 993, security: "tls" },
      { name: "new", host: "imap.new.example", port: 993, security: "tls" },
    ])
    .returning("id")
    .execute();
  await database.db
    .insertInto("settings")
    .values({ key: "notificationRecipients", value: JSON.stringify(RECIPIENTS) })
    .execute();
  const worker = await startNotificationWorker({
    ctx,
    smtp,
    from: FROM,
    publicUrl: PUBLIC_URL,
    concurrency: 2,
    // Retries are scheduled in the future and found by polling; keep that quick in tests.
    pollInterval: 200,
  });
  return {
    database,
    ctx,
    worker,
    logs: logs.lines,
    sourceServerId: servers[0]?.id ?? 0,
    destServerId: servers[1]?.id ?? 0,
  };
}

async function stopHarness(h: Harness | undefined): Promise<void> {
  if (!h) return;
  await h.worker.stop();
  await h.database.drop();
}

interface EndedJob {
  sourceEmail: string;
  destEmail?: string;
  status: "done" | "failed";
  batchId?: number | null;
  errorMessage?: string | null;
  stats?: Record<string, unknown> | null;
}

/** Creates a job as the job system leaves it at its end, without queueing the notification yet. */
async function insertEndedJob(h: Harness, job: EndedJob): Promise<number> {
  const finished = new Date();
  const row = await h.database.db
    .insertInto("jobs")
    .values({
      name: "",
      batch_id: job.batchId ?? null,
      source_server_id: h.sourceServerId,
      source_email: job.sourceEmail,
      source_secret: h.ctx.vault.encrypt(SOURCE_PASSWORD),
      dest_server_id: h.destServerId,
      dest_email: job.destEmail ?? job.sourceEmail.replace("old.example", "new.example"),
      dest_secret: h.ctx.vault.encrypt(DEST_PASSWORD),
      dry_run: false,
      options: {},
      status: job.status,
      stats: job.stats ?? null,
      error_message: job.errorMessage ?? null,
      error_category: job.status === "failed" ? "auth_source" : null,
      started_at: new Date(finished.getTime() - 252_000),
      finished_at: finished,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

/** A real (not dry-run) batch, inserted as the job system stores it. */
async function insertBatch(h: Harness, tag: string): Promise<{ id: number }> {
  return h.database.db
    .insertInto("batches")
    .values({ tag, dry_run: false, defaults: {} })
    .returning("id")
    .executeTakeFirstOrThrow();
}

/** What the job system does when a job ends: the notification is queued in the finishing transaction. */
async function endJob(h: Harness, job: EndedJob): Promise<number> {
  const id = await insertEndedJob(h, job);
  await queueJobEndNotification(h.database.db, id);
  return id;
}

async function queueIsDrained(h: Harness): Promise<boolean> {
  const { rows } = await h.database.pool.query<{ n: string }>(
    "select count(*) as n from graphile_worker.jobs",
  );
  return rows[0]?.n === "0";
}

async function notificationOf(h: Harness, dedupeKey: string) {
  return h.database.db
    .selectFrom("notifications")
    .selectAll()
    .where("dedupe_key", "=", dedupeKey)
    .executeTakeFirst();
}

function expectNoSecret(texts: string[]): void {
  for (const text of texts) {
    for (const secret of [SMTP_PASSWORD, SOURCE_PASSWORD, DEST_PASSWORD, "v1:"]) {
      expect(text).not.toContain(secret);
    }
  }
}

function mailWithSubject(smtp: SmtpTestServer, subject: string): ReceivedMail[] {
  return smtp.messages.filter((m) => m.subject === subject);
}

describe("email notifications", () => {
  let smtp: SmtpTestServer;
  let h: Harness;

  beforeAll(async () => {
    smtp = await startSmtpServer({ auth: { user: SMTP_USER, password: SMTP_PASSWORD } });
    h = await startHarness({
      host: smtp.host,
      port: smtp.port,
      user: SMTP_USER,
      password: SMTP_PASSWORD,
      secure: false,
    });
  });

  afterAll(async () => {
    await stopHarness(h);
    await smtp?.close();
    expectNoSecret(h?.logs ?? []);
  });

  it("a job that ends done emails the recipients: status and mailbox in the subject, statistics and a link in the body", async () => {
    const before = smtp.messages.length;
    const jobId = await endJob(h, {
      sourceEmail: "alice@old.example",
      status: "done",
      stats: {
        messagesTransferred: 15,
        messagesSkipped: 33,
        errors: 0,
        bytesTransferred: 31891,
        transferTimeSeconds: 252,
      },
    });
    const [mail] = (await smtp.waitForMessages(before + 1)).slice(before);
    expect(mail?.subject).toBe("[imapferry] Done: alice@old.example → alice@new.example");
    expect(mail?.from).toBe("imapferry@ferry.example");
    expect(mail?.envelopeTo.sort()).toEqual([...RECIPIENTS].sort());
    expect(mail?.authUser).toBe(SMTP_USER);
    const text = mail?.text ?? "";
    expect(text).toContain("The migration of alice@old.example to alice@new.example finished.");
    expect(text).toMatch(/Transferred: +15 messages \(31\.1 KiB\)/);
    expect(text).toMatch(/Skipped: +33 messages/);
    expect(text).toMatch(/Errors: +0/);
    expect(text).toMatch(/Duration: +4 min 12 s/);
    expect(text).toContain(`https://ferry.example/jobs/${jobId}`);
    expect(text).not.toContain("Error:");
    const row = await waitFor("the notification marked sent", async () => {
      const n = await notificationOf(h, `job:${jobId}:done`);
      return n?.status === "sent" ? n : null;
    });
    expect(row.attempts).toBe(1);
    expect(row.sent_at).toBeInstanceOf(Date);
    expectNoSecret([mail?.raw ?? ""]);
  });

  it("a job that fails emails the error sentence, and no password ever appears in the email", async () => {
    const before = smtp.messages.length;
    // An engine quoting a password back in its error must not leak it into an email.
    const jobId = await endJob(h, {
      sourceEmail: "bob@old.example",
      status: "failed",
      errorMessage: `The source server rejected the password for bob@old.example (tried "${SOURCE_PASSWORD}").`,
      stats: null,
    });
    const [mail] = (await smtp.waitForMessages(before + 1)).slice(before);
    expect(mail?.subject).toBe("[imapferry] Failed: bob@old.example → bob@new.example");
    const text = mail?.text ?? "";
    expect(text).toContain("The migration of bob@old.example to bob@new.example failed.");
    expect(text).toContain(
      'Error: The source server rejected the password for bob@old.example (tried "[redacted]").',
    );
    expect(text).toMatch(/Transferred: +not reported/);
    expect(text).toMatch(/Duration: +4 min 12 s/);
    expect(text).toContain(`https://ferry.example/jobs/${jobId}`);
    expectNoSecret([mail?.raw ?? ""]);
  });

  it("a job someone watched in the last minute sends no email; one watched two minutes ago does", async () => {
    const watchedId = await insertEndedJob(h, { sourceEmail: "carol@old.example", status: "done" });
    await recordWatch(h.ctx, { jobIds: [watchedId] });
    const staleId = await insertEndedJob(h, { sourceEmail: "dave@old.example", status: "done" });
    await h.database.db
      .updateTable("jobs")
      .set({ last_watched_at: sql<Date>`now() - interval '2 minutes'` })
      .where("id", "=", staleId)
      .execute();
    await queueJobEndNotification(h.database.db, watchedId);
    await queueJobEndNotification(h.database.db, staleId);

    await waitFor(
      "the stale-watch email",
      async () => mailWithSubject(smtp, "[imapferry] Done: dave@old.example → dave@new.example").length === 1,
    );
    const suppressed = await waitFor("the suppressed record", () =>
      notificationOf(h, `job:${watchedId}:done`),
    );
    await waitFor("the queue to drain", () => queueIsDrained(h));
    expect(suppressed.status).toBe("suppressed");
    expect(suppressed.suppressed_reason).toBe("someone was watching the job");
    expect(smtp.messages.filter((m) => m.subject.includes("carol@"))).toEqual([]);
  });

  it("watching other jobs and other batches does not silence a job's email", async () => {
    const otherJob = await insertEndedJob(h, { sourceEmail: "other@old.example", status: "done" });
    const otherBatch = await insertBatch(h, "someone-elses-batch");
    await recordWatch(h.ctx, { jobIds: [otherJob], batchIds: [otherBatch.id] });
    try {
      const before = smtp.messages.length;
      const jobId = await endJob(h, {
        sourceEmail: "erin@old.example",
        status: "failed",
        errorMessage: "Quota exceeded.",
      });
      const [mail] = (await smtp.waitForMessages(before + 1)).slice(before);
      expect(mail?.subject).toBe("[imapferry] Failed: erin@old.example → erin@new.example");
      const row = await waitFor("the sent record", () => notificationOf(h, `job:${jobId}:failed`));
      expect(row.suppressed_reason).toBeNull();
    } finally {
      await h.database.db.deleteFrom("watch_marks").execute();
    }
  });

  it("a batch sends one summary when its last job ends, and no email per job", async () => {
    const batch = await insertBatch(h, "spring-2026");
    // One job ends while another is still running: the batch has not ended.
    const running = await insertEndedJob(h, {
      sourceEmail: "f3@old.example",
      status: "done",
      batchId: batch.id,
    });
    await h.database.db.updateTable("jobs").set({ status: "running" }).where("id", "=", running).execute();
    const first = await endJob(h, { sourceEmail: "f1@old.example", status: "done", batchId: batch.id });
    await waitFor("the first job's task to finish", () => queueIsDrained(h));
    expect(await notificationOf(h, `batch:${batch.id}`)).toBeUndefined();
    expect(await notificationOf(h, `job:${first}:done`)).toBeUndefined();

    const before = smtp.messages.length;
    // The last two end at once: both notify tasks find the batch finished; one summary must result.
    const failed = await insertEndedJob(h, {
      sourceEmail: "f2@old.example",
      status: "failed",
      batchId: batch.id,
      errorMessage: "The destination mailbox is over quota.",
    });
    await h.database.db.updateTable("jobs").set({ status: "done" }).where("id", "=", running).execute();
    await Promise.all([
      queueJobEndNotification(h.database.db, failed),
      queueJobEndNotification(h.database.db, running),
      queueJobEndNotification(h.database.db, first),
    ]);
    const [summary] = (await smtp.waitForMessages(before + 1)).slice(before);
    await waitFor("the queue to drain", () => queueIsDrained(h));
    expect(smtp.messages.length).toBe(before + 1);
    expect(summary?.subject).toBe("[imapferry] Batch spring-2026 finished: 2 done, 1 failed");
    const text = summary?.text ?? "";
    expect(text).toContain("Every job of the batch spring-2026 has ended: 2 done, 1 failed.");
    expect(text).toContain(
      `- f2@old.example → f2@new.example (job #${failed}): The destination mailbox is over quota.`,
    );
    expect(text).not.toContain("f1@old.example");
    expect(text).toContain(`Open the batch: https://ferry.example/jobs?batch=${batch.id}\n`);
    const queued = await h.database.db
      .selectFrom("batches")
      .select("summary_queued_at")
      .where("id", "=", batch.id)
      .executeTakeFirstOrThrow();
    expect(queued.summary_queued_at).toBeInstanceOf(Date);
    expectNoSecret([summary?.raw ?? ""]);
  });

  it("a batch whose last job is cancelled still sends its summary, once", async () => {
    const batch = await insertBatch(h, "cancel-last");
    const other = await insertEndedJob(h, {
      sourceEmail: "m2@old.example",
      status: "done",
      batchId: batch.id,
    });
    await h.database.db.updateTable("jobs").set({ status: "running" }).where("id", "=", other).execute();
    await endJob(h, { sourceEmail: "m1@old.example", status: "done", batchId: batch.id });
    await waitFor("the first job's task to finish", () => queueIsDrained(h));
    expect(await notificationOf(h, `batch:${batch.id}`)).toBeUndefined();

    // The job system cancels the last one: no notify_job_end, but a batch check.
    await h.database.db.updateTable("jobs").set({ status: "cancelled" }).where("id", "=", other).execute();
    await queueBatchEndCheck(h.database.db, batch.id);
    await queueBatchEndCheck(h.database.db, batch.id);
    const subject = "[imapferry] Batch cancel-last finished: 1 done, 1 cancelled";
    await waitFor("the summary", async () => mailWithSubject(smtp, subject).length >= 1);
    await waitFor("the queue to drain", () => queueIsDrained(h));
    expect(mailWithSubject(smtp, subject)).toHaveLength(1);
  });

  it("a batch watched on its page when it ends sends no summary", async () => {
    const batch = await insertBatch(h, "watched-batch");
    const a = await insertEndedJob(h, { sourceEmail: "n1@old.example", status: "done", batchId: batch.id });
    const b = await insertEndedJob(h, { sourceEmail: "n2@old.example", status: "failed", batchId: batch.id });
    // What an open batch page does: its jobs count as watched.
    await recordWatch(h.ctx, { jobIds: [a, b] });
    await queueJobEndNotification(h.database.db, a);
    await queueJobEndNotification(h.database.db, b);
    const row = await waitFor("the suppressed summary", () => notificationOf(h, `batch:${batch.id}`));
    await waitFor("the queue to drain", () => queueIsDrained(h));
    expect(row.status).toBe("suppressed");
    expect(row.suppressed_reason).toBe("someone was watching the batch");
    expect(smtp.messages.filter((m) => m.subject.includes("watched-batch"))).toEqual([]);
  });

  it("a batch watched as a whole (recordWatch batchIds) sends no summary", async () => {
    const batch = await insertBatch(h, "watched-whole");
    await recordWatch(h.ctx, { batchIds: [batch.id] });
    await endJob(h, { sourceEmail: "o1@old.example", status: "done", batchId: batch.id });
    const row = await waitFor("the suppressed summary", () => notificationOf(h, `batch:${batch.id}`));
    await waitFor("the queue to drain", () => queueIsDrained(h));
    expect(row.status).toBe("suppressed");
    expect(row.suppressed_reason).toBe("someone was watching the batch");
    expect(smtp.messages.filter((m) => m.subject.includes("watched-whole"))).toEqual([]);
  });

  it("with per-job emails for batches on, each batch job emails too, plus the summary", async () => {
    await h.database.db
      .insertInto("settings")
      .values({ key: "perJobEmailsInBatches", value: JSON.stringify(true) })
      .execute();
    try {
      const batch = await insertBatch(h, "per-job");
      const before = smtp.messages.length;
      await endJob(h, { sourceEmail: "g1@old.example", status: "done", batchId: batch.id });
      await endJob(h, { sourceEmail: "g2@old.example", status: "done", batchId: batch.id });
      const mails = (await smtp.waitForMessages(before + 3)).slice(before);
      await waitFor("the queue to drain", () => queueIsDrained(h));
      expect(smtp.messages.length).toBe(before + 3);
      expect(mails.map((m) => m.subject).sort()).toEqual([
        "[imapferry] Batch per-job finished: 2 done",
        "[imapferry] Done: g1@old.example → g1@new.example",
        "[imapferry] Done: g2@old.example → g2@new.example",
      ]);
      expect(mails.find((m) => m.subject.includes("g1@"))?.text).toMatch(/Batch: +per-job/);
    } finally {
      await h.database.db.deleteFrom("settings").where("key", "=", "perJobEmailsInBatches").execute();
    }
  });

  it("while the SMTP server is unreachable the email is retried, and arrives exactly once when it is back", async () => {
    await smtp.stop();
    const jobId = await endJob(h, { sourceEmail: "henry@old.example", status: "done" });
    const failedAttempt = await waitFor("a failed attempt", async () => {
      const n = await notificationOf(h, `job:${jobId}:done`);
      return n && n.attempts >= 1 && n.last_error ? n : null;
    });
    expect(failedAttempt.status).toBe("pending");
    // The failure is logged (ours and graphile-worker's lines); afterAll checks no log line holds a secret.
    expect(h.logs.some((line) => line.includes("did not take the email"))).toBe(true);
    expect(failedAttempt.last_error).toContain(
      `The SMTP server 127.0.0.1:${smtp.port} did not take the email`,
    );
    expectNoSecret([failedAttempt.last_error ?? ""]);

    await smtp.start();
    const subject = "[imapferry] Done: henry@old.example → henry@new.example";
    await waitFor("the email after the outage", async () => mailWithSubject(smtp, subject).length >= 1);
    await waitFor("the queue to drain", () => queueIsDrained(h));
    expect(mailWithSubject(smtp, subject)).toHaveLength(1);
    const row = await notificationOf(h, `job:${jobId}:done`);
    expect(row?.status).toBe("sent");
    expect(row?.attempts).toBeGreaterThanOrEqual(2);
  });

  it("a server answering 421 (temporarily unavailable) is retried too, and the email arrives once", async () => {
    smtp.setDown(true);
    const connectionsBefore = smtp.connections;
    const jobId = await endJob(h, {
      sourceEmail: "iris@old.example",
      status: "failed",
      errorMessage: "Connection lost.",
    });
    await smtp.waitForConnections(connectionsBefore + 1);
    const failedAttempt = await waitFor("a failed attempt recorded", async () => {
      const n = await notificationOf(h, `job:${jobId}:failed`);
      return n?.last_error ? n : null;
    });
    expect(failedAttempt.last_error).toMatch(/421/);
    smtp.setDown(false);
    const subject = "[imapferry] Failed: iris@old.example → iris@new.example";
    await waitFor("the email after the outage", async () => mailWithSubject(smtp, subject).length >= 1);
    await waitFor("the queue to drain", () => queueIsDrained(h));
    expect(mailWithSubject(smtp, subject)).toHaveLength(1);
  });

  it("a notify task that runs twice for the same job sends one email", async () => {
    const jobId = await insertEndedJob(h, { sourceEmail: "jack@old.example", status: "done" });
    await queueJobEndNotification(h.database.db, jobId);
    await queueJobEndNotification(h.database.db, jobId);
    const subject = "[imapferry] Done: jack@old.example → jack@new.example";
    await waitFor("the email", async () => mailWithSubject(smtp, subject).length >= 1);
    await waitFor("the queue to drain", () => queueIsDrained(h));
    expect(mailWithSubject(smtp, subject)).toHaveLength(1);
  });

  it("a cancelled job sends nothing", async () => {
    const jobId = await insertEndedJob(h, { sourceEmail: "kate@old.example", status: "done" });
    await h.database.db.updateTable("jobs").set({ status: "cancelled" }).where("id", "=", jobId).execute();
    await queueJobEndNotification(h.database.db, jobId);
    await waitFor("the queue to drain", () => queueIsDrained(h));
    const rows = await h.database.db
      .selectFrom("notifications")
      .select("id")
      .where("job_id", "=", jobId)
      .execute();
    expect(rows).toEqual([]);
    expect(smtp.messages.filter((m) => m.subject.includes("kate@"))).toEqual([]);
  });
});

describe("without SMTP configured", () => {
  let smtp: SmtpTestServer;
  let h: Harness;

  beforeAll(async () => {
    // A server nobody is told about: it proves nothing tries to connect anywhere.
    smtp = await startSmtpServer();
    h = await startHarness(undefined);
  });

  afterAll(async () => {
    await stopHarness(h);
    await smtp?.close();
  });

  it("nothing is attempted and the status says why", async () => {
    const status = notificationStatus({ smtp: undefined, from: FROM });
    expect(status.enabled).toBe(false);
    expect(status.reason).toMatch(/SMTP is not configured/);

    const jobId = await endJob(h, { sourceEmail: "liam@old.example", status: "done" });
    await waitFor("the queue to drain", () => queueIsDrained(h));
    const rows = await h.database.db.selectFrom("notifications").select("id").execute();
    expect(rows).toEqual([]);
    expect(jobId).toBeGreaterThan(0);
    expect(smtp.connections).toBe(0);
  });
});
