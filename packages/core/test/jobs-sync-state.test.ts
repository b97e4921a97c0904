import type { SeedMessage } from "@imapferry/testkit";
import { readMailbox, seedMailbox } from "@imapferry/testkit";
import { ImapFlow } from "imapflow";
import { describe, expect, it } from "vitest";
import { rerunJob } from "../src/services/jobs/index.ts";
import { readLog } from "../src/services/logs/logs.ts";
import { getJobReport } from "../src/services/reports/index.ts";
import { useJobWorld } from "./support/engine-worker.ts";
import { createFixtureJob, type ImapFixture, type MailboxUsers } from "./support/imap-fixture.ts";
import { type JobTestContext, waitForJobStatus } from "./support/job-context.ts";

// The incremental sync state as the job system keeps it: stored by one run, used by the next run of
// the same mailbox pair (a rerun here; a scheduled pass the same way), and checked exactly after each.

let t: JobTestContext;
let imap: ImapFixture;

useJobWorld(
  (world) => {
    ({ t, imap } = world);
  },
  { concurrency: 1 },
);

function message(n: number): SeedMessage {
  return {
    source: [
      `From: Sender ${n} <sender${n}@example.org>`,
      "To: owner@example.com",
      `Subject: State test ${n}`,
      `Message-ID: <state-${n}@example.org>`,
      "Date: Mon, 02 Nov 2026 10:00:00 +0000",
      "",
      `Body ${n}`,
      "",
    ].join("\r\n"),
    internalDate: "2026-11-02T10:00:00Z",
  };
}

async function users(name: string): Promise<MailboxUsers> {
  const source = await imap.pair.source.addUser(`${name}@old.example`, `src-${name}-pw`);
  const dest = await imap.pair.destination.addUser(`${name}@new.example`, `dst-${name}-pw`);
  await seedMailbox(imap.pair.source, source.user, source.password, {
    folders: [
      { path: "INBOX", messages: Array.from({ length: 12 }, (_, i) => message(i)) },
      { path: "Projects/2026", messages: Array.from({ length: 4 }, (_, i) => message(100 + i)) },
    ],
  });
  return { source, dest };
}

async function logOf(jobId: number): Promise<string> {
  return (await readLog(t.ctx, jobId, 0, 10 * 1024 * 1024)).chunks.map((c) => c.text).join("");
}

describe("incremental sync state in the job system", () => {
  it("a rerun finds the state its first run stored: unchanged folders cost a STATUS, new mail arrives, the check stays exact", async () => {
    const u = await users("rerun-state");
    const first = await createFixtureJob(t.ctx, imap, u);
    expect((await waitForJobStatus(t.ctx, first.id, ["done", "incomplete", "failed"])).status).toBe("done");
    const rows = await t.ctx.db
      .selectFrom("sync_folder_states")
      .select(["source_folder", "dest_folder", "source_login", "job_id"])
      .where("source_login", "=", u.source.user.toLowerCase())
      .orderBy("source_folder")
      .execute();
    expect(rows.map((r) => [r.source_folder, r.dest_folder, r.job_id])).toEqual([
      ["INBOX", "INBOX", first.id],
      ["Projects", "Projects", first.id],
      ["Projects/2026", "Projects/2026", first.id],
    ]);
    // The check after the first run proves every folder from the UIDs the destination gave its copies.
    expect((await getJobReport(t.ctx, { id: first.id })).verification).toMatchObject({
      sourceMessages: 16,
      destMessages: 16,
      missing: 0,
      provenByCopies: 3,
    });
    expect(await logOf(first.id)).toContain("3 proven by the UIDs the destination gave this run's copies");

    const second = await rerunJob(t.ctx, { id: first.id });
    const ended = await waitForJobStatus(t.ctx, second.id, ["done", "incomplete", "failed"]);
    expect(ended.status).toBe("done");
    const log = await logOf(second.id);
    expect(log.match(/unchanged since the last pass/g)).toHaveLength(6);
    // The check after it finds every folder as it proved it complete last time, and reads none again.
    expect((await getJobReport(t.ctx, { id: second.id })).verification).toMatchObject({
      sourceMessages: 16,
      destMessages: 16,
      missing: 0,
      unchangedFolders: 3,
    });

    // Mail arriving between runs is copied by the next one from the state, and nothing twice.
    const client = new ImapFlow(imap.pair.source.imapflowOptions(u.source));
    client.on("error", () => {});
    await client.connect();
    await client.append("INBOX", message(50).source as string, ["\\Seen"]);
    await client.logout();
    const third = await rerunJob(t.ctx, { id: second.id });
    const thirdEnded = await waitForJobStatus(t.ctx, third.id, ["done", "incomplete", "failed"]);
    expect(thirdEnded.status).toBe("done");
    expect(await logOf(third.id)).toContain("since the last pass: 1 new, 0 gone");
    expect((await getJobReport(t.ctx, { id: third.id })).verification).toMatchObject({
      sourceMessages: 17,
      destMessages: 17,
      missing: 0,
      unchangedFolders: 2,
    });
    const [source, destination] = await Promise.all([
      readMailbox(imap.pair.source, u.source.user, u.source.password),
      readMailbox(imap.pair.destination, u.dest.user, u.dest.password),
    ]);
    expect(destination).toEqual(source);
  });

  it("a dry run neither uses nor stores state", async () => {
    const u = await users("dry-state");
    const job = await createFixtureJob(t.ctx, imap, u, { dryRun: true });
    await waitForJobStatus(t.ctx, job.id, ["done", "incomplete", "failed"]);
    const rows = await t.ctx.db
      .selectFrom("sync_folder_states")
      .select("source_folder")
      .where("source_login", "=", u.source.user.toLowerCase())
      .execute();
    expect(rows).toEqual([]);
  });
});
