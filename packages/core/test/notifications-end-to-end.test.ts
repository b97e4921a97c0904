import { type SmtpTestServer, startSmtpServer } from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkerHandle } from "../src/queue/worker.ts";
import { createBatch } from "../src/services/batches/batches.ts";
import { type NotificationWorker, startNotificationWorker } from "../src/services/notifications/index.ts";
import { updateSettings } from "../src/services/settings/settings.ts";
import { resolveTestEngine, startTestWorker } from "./support/engine-worker.ts";
import {
  createFixtureJob,
  type ImapFixture,
  standardUsers,
  startImapFixture,
} from "./support/imap-fixture.ts";
import {
  createJobTestContext,
  type JobTestContext,
  waitFor,
  waitForJobStatus,
} from "./support/job-context.ts";

// The whole path with real parts: the job system runs a real migration (built-in engine, two Dovecot
// servers), queues notify_job_end in the transaction that ends the job, and the notification worker
// sends through a real SMTP server.

const SMTP_PASSWORD = "smtp-e2e-Secret-pw";
let t: JobTestContext;
let imap: ImapFixture;
let smtp: SmtpTestServer;
let worker: WorkerHandle;
let notifications: NotificationWorker;

beforeAll(async () => {
  t = await createJobTestContext();
  imap = await startImapFixture(t.ctx);
  smtp = await startSmtpServer({ auth: { user: "ferry", password: SMTP_PASSWORD } });
  await updateSettings(t.ctx, { notificationRecipients: ["ops@example.com"] });
  worker = await startTestWorker(t.ctx, await resolveTestEngine("builtin"));
  notifications = await startNotificationWorker({
    ctx: t.ctx,
    smtp: { host: smtp.host, port: smtp.port, user: "ferry", password: SMTP_PASSWORD },
    from: "imapferry <ferry@example.com>",
    publicUrl: "http://panel.example",
    pollInterval: 200,
  });
});

afterAll(async () => {
  await notifications?.stop();
  await worker?.stop({ handBack: true });
  await smtp?.close();
  await imap?.stop();
  await t?.close();
});

function waitForEnd(jobId: number) {
  return waitForJobStatus(t.ctx, jobId, ["done", "failed"]);
}

describe("notifications of real migrations", () => {
  it("a migration that finishes emails its statistics; one with a wrong password emails the reason", async () => {
    const alice = await standardUsers(imap.pair, "alice");
    const good = await createFixtureJob(t.ctx, imap, alice);
    const bad = await createFixtureJob(t.ctx, imap, alice, { sourcePassword: "not-alices-password" });
    const done = await waitForEnd(good.id);
    const failed = await waitForEnd(bad.id);
    expect(done.status).toBe("done");
    expect(failed.status).toBe("failed");

    const mails = await smtp.waitForMessages(2);
    const doneMail = mails.find((m) => m.subject.startsWith("[imapferry] Done:"));
    const failedMail = mails.find((m) => m.subject.startsWith("[imapferry] Failed:"));
    expect(doneMail?.subject).toBe("[imapferry] Done: alice@old.example → alice@new.example");
    expect(doneMail?.text).toMatch(
      new RegExp(`Transferred: +${String(done.stats?.messagesTransferred)} messages`),
    );
    expect(doneMail?.text).toContain(`http://panel.example/jobs/${good.id}`);
    expect(failedMail?.subject).toBe("[imapferry] Failed: alice@old.example → alice@new.example");
    expect(failedMail?.text).toContain(`Error: ${failed.errorMessage ?? "?"}`);
    for (const mail of mails) {
      for (const secret of [
        alice.source.password,
        alice.dest.password,
        "not-alices-password",
        SMTP_PASSWORD,
      ]) {
        expect(mail.raw).not.toContain(secret);
      }
    }
  });

  it("a batch of real migrations sends one summary and no per-job email", async () => {
    const bob = await standardUsers(imap.pair, "bob");
    const carol = await standardUsers(imap.pair, "carol");
    const batch = await createBatch(t.ctx, { tag: "e2e-batch", dryRun: false });
    const before = smtp.messages.length;
    const jobs = [];
    for (const users of [bob, carol]) {
      jobs.push(await createFixtureJob(t.ctx, imap, users, { batchId: batch.id }));
    }
    for (const job of jobs) expect((await waitForEnd(job.id)).status).toBe("done");
    const [summary] = (await smtp.waitForMessages(before + 1)).slice(before);
    expect(summary?.subject).toBe("[imapferry] Batch e2e-batch finished: 2 done");
    expect(summary?.text).toContain(`Open the batch: http://panel.example/jobs?batch=${batch.id}`);
    // Every notification task has run: nothing else is coming.
    await waitFor("the notification queue to drain", async () => {
      const { rows } = await t.ctx.pool.query<{ n: string }>(
        "select count(*) as n from graphile_worker.jobs where task_identifier in ('notify_job_end', 'send_notification')",
      );
      return rows[0]?.n === "0";
    });
    expect(smtp.messages.length).toBe(before + 1);
  });
});
