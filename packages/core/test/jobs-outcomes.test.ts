import type { MailboxSpec, SeedMessage } from "@imapferry/testkit";
import { readMailbox, seedMailbox } from "@imapferry/testkit";
import { ImapFlow } from "imapflow";
import { describe, expect, it } from "vitest";
import { rerunJob } from "../src/services/jobs/index.ts";
import { getJobReport } from "../src/services/reports/index.ts";
import { useJobWorld } from "./support/engine-worker.ts";
import { createFixtureJob, type ImapFixture, type MailboxUsers } from "./support/imap-fixture.ts";
import { type JobTestContext, waitForJobStatus } from "./support/job-context.ts";

// What a real run ends as when mail is missing on the destination, whatever the reason: never done.

let t: JobTestContext;
let imap: ImapFixture;
/** Runs after a job's engine exits and before the check, keyed by the job's destination login. */
const afterCopy = new Map<string, () => Promise<void>>();

function message(n: number, bodyBytes = 200): SeedMessage {
  return {
    source: [
      `From: Sender ${n} <sender${n}@example.org>`,
      "To: owner@example.com",
      `Subject: Outcome test ${n}`,
      `Message-ID: <outcome-${n}@example.org>`,
      "Date: Mon, 02 Nov 2026 10:00:00 +0000",
      "",
      "x".repeat(bodyBytes),
      "",
    ].join("\r\n"),
    internalDate: "2026-11-02T10:00:00Z",
  };
}

/** INBOX with `small` messages of about 300 bytes and `large` ones of about 60 kB. */
function mailbox(small: number, large: number): MailboxSpec {
  const messages = [
    ...Array.from({ length: small }, (_, i) => message(i)),
    ...Array.from({ length: large }, (_, i) => message(1000 + i, 60_000)),
  ];
  return { folders: [{ path: "INBOX", messages }] };
}

async function usersWith(
  name: string,
  spec: MailboxSpec,
  destination: { quotaBytes?: number } = {},
): Promise<MailboxUsers> {
  const source = await imap.pair.source.addUser(`${name}@old.example`, `src-${name}-pw`);
  const dest = await imap.pair.destination.addUser(`${name}@new.example`, `dst-${name}-pw`, destination);
  await seedMailbox(imap.pair.source, source.user, source.password, spec);
  return { source, dest };
}

async function destinationCount(users: MailboxUsers): Promise<number> {
  const snapshot = await readMailbox(imap.pair.destination, users.dest.user, users.dest.password);
  return snapshot.folders.reduce((n, folder) => n + folder.messages.length, 0);
}

useJobWorld(
  (world) => {
    ({ t, imap } = world);
  },
  { afterRun: (input) => afterCopy.get(input.spec.destination.user)?.() },
);

describe("the outcome of a real run", () => {
  it("is incomplete, with the reason and the messages by folder, when messages are over maxMessageBytes", async () => {
    const users = await usersWith("maxsize", mailbox(5, 2));
    const job = await createFixtureJob(t.ctx, imap, users, { options: { maxMessageBytes: 10_000 } });

    const ended = await waitForJobStatus(t.ctx, job.id, ["done", "incomplete", "failed"]);

    expect(ended.status).toBe("incomplete");
    expect(ended.errorCategory).toBe("incomplete");
    expect(ended.errorMessage).toBe(
      "2 of 7 messages are not on the destination: 2 over maxMessageBytes. The job page lists them by folder.",
    );
    expect(await destinationCount(users)).toBe(5);
    const report = await getJobReport(t.ctx, { id: job.id });
    expect(report.verification).toMatchObject({
      sourceMessages: 7,
      destMessages: 5,
      missing: 2,
      reasons: { "over maxMessageBytes": 2 },
    });
    const inbox = report.verification?.folders.find((folder) => folder.folder === "INBOX");
    expect(inbox).toMatchObject({ sourceMessages: 7, destMessages: 5, missing: 2 });
    expect(inbox?.missingSample.map((m) => m.subject).sort()).toEqual([
      "Outcome test 1000",
      "Outcome test 1001",
    ]);
    expect(inbox?.missingSample[0]?.reason).toMatch(/^\d+ bytes, over maxMessageBytes \(10000\)$/);
  });

  it("is incomplete, saying the destination refused mail, when the destination's quota is full", async () => {
    const users = await usersWith("quota", mailbox(5, 4), { quotaBytes: 150_000 });
    const job = await createFixtureJob(t.ctx, imap, users);

    const ended = await waitForJobStatus(t.ctx, job.id, ["done", "incomplete", "failed"]);

    expect(ended.status).toBe("incomplete");
    expect(ended.errorCategory).toBe("over-quota");
    const onDestination = await destinationCount(users);
    expect(onDestination).toBeLessThan(9);
    const report = await getJobReport(t.ctx, { id: job.id });
    const missing = 9 - onDestination;
    expect(report.verification).toMatchObject({ sourceMessages: 9, destMessages: onDestination, missing });
    expect(ended.errorMessage).toContain(`${missing} of 9 messages are not on the destination`);
    // The message the server refused is named with the server's answer; any after it were never tried.
    expect(report.verification?.reasons["refused by the destination"]).toBeGreaterThanOrEqual(1);
    const refused = report.verification?.folders[0]?.missingSample.find((m) =>
      m.reason.startsWith("refused by the destination"),
    );
    expect(refused?.reason).toMatch(/quota/i);
  });

  it("is incomplete when a copied message is gone from the destination at the check; a rerun restores it and ends done", async () => {
    const users = await usersWith("vanished", mailbox(6, 0));
    afterCopy.set(users.dest.user, async () => {
      afterCopy.delete(users.dest.user);
      // Someone (a user, a filter, a server-side rule) deletes a copied message before the check.
      const client = new ImapFlow(imap.pair.destination.imapflowOptions(users.dest));
      await client.connect();
      await client.mailboxOpen("INBOX");
      await client.messageDelete({ header: { subject: "Outcome test 3" } });
      await client.logout();
    });
    const job = await createFixtureJob(t.ctx, imap, users);

    const ended = await waitForJobStatus(t.ctx, job.id, ["done", "incomplete", "failed"]);

    expect(ended.status).toBe("incomplete");
    expect(ended.stats).toMatchObject({ messagesTransferred: 6 });
    expect(await destinationCount(users)).toBe(5);
    const report = await getJobReport(t.ctx, { id: job.id });
    expect(report.verification).toMatchObject({ sourceMessages: 6, destMessages: 5, missing: 1 });
    expect(report.verification?.folders[0]?.missingSample).toEqual([
      expect.objectContaining({
        subject: "Outcome test 3",
        reason: "not on the destination; run the migration again",
      }),
    ]);

    const rerun = await rerunJob(t.ctx, { id: job.id, dryRun: false });
    const again = await waitForJobStatus(t.ctx, rerun.id, ["done", "incomplete", "failed"]);
    expect(again.status).toBe("done");
    expect(again.stats).toMatchObject({ messagesTransferred: 1 });
    expect(await destinationCount(users)).toBe(6);
    expect((await getJobReport(t.ctx, { id: rerun.id })).verification).toMatchObject({ missing: 0 });
  });
});
