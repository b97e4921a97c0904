import { readMailbox } from "@imapferry/testkit";
import { describe, expect, it } from "vitest";
import { cancelJob, getJob, rerunJob } from "../src/services/jobs/jobs.ts";
import { readLog } from "../src/services/logs/logs.ts";
import { getJobReport } from "../src/services/reports/index.ts";
import { IMAPSYNC_BIN, useJobWorld } from "./support/engine-worker.ts";
import { createFixtureJob, type ImapFixture, largeUsers, standardUsers } from "./support/imap-fixture.ts";
import { type JobTestContext, waitFor, waitForJobStatus } from "./support/job-context.ts";
import { isProcessAlive } from "./support/process-alive.ts";

/*
 * Jobs run by the real imapsync through the worker: what an operator sees in the job row (status,
 * exit code, progress, statistics) is parsed from imapsync's live output, not from a recorded log.
 * Needs IMAPSYNC_BIN (`.ci/run` points it at ../shared/imapsync/imapsync when that is there).
 */
if (!IMAPSYNC_BIN) {
  console.warn(
    "jobs-imapsync: skipped — IMAPSYNC_BIN is not set, so the real imapsync cannot be run here (set it to imapsync's absolute path to run these tests).",
  );
}

describe.skipIf(!IMAPSYNC_BIN)("a job run by the real imapsync", () => {
  let t: JobTestContext;
  let imap: ImapFixture;
  const enginePids: number[] = [];

  useJobWorld(
    (world) => {
      expect(world.engine).toMatchObject({ kind: "imapsync", version: "2.229" });
      ({ t, imap } = world);
    },
    { engine: "imapsync", hub: true, onSpawn: (pid) => enginePids.push(pid) },
  );

  it("runs to done, with progress and statistics from imapsync's own output and its log kept", async () => {
    const users = await standardUsers(imap.pair, "alice");
    const job = await createFixtureJob(t.ctx, imap, users);
    const done = await waitForJobStatus(t.ctx, job.id, ["done", "failed"]);
    expect(done.errorMessage).toBeNull();
    expect(done).toMatchObject({ status: "done", exitCode: 0, errorCategory: "ok" });

    const source = await readMailbox(imap.pair.source, users.source.user, users.source.password);
    const destination = await readMailbox(imap.pair.destination, users.dest.user, users.dest.password);
    const total = source.folders.reduce((n, f) => n + f.messages.length, 0);
    const copiedMessages = destination.folders.flatMap((f) => f.messages);
    const copiedBytes = copiedMessages.reduce((n, m) => n + m.size, 0);
    // addHeader is on by default for imapsync jobs: the messages with neither Message-ID nor Received
    // get one and are copied too, so nothing is left on the source.
    const skipped = total - copiedMessages.length;
    expect(skipped).toBe(0);
    expect(done.stats).toMatchObject({
      messagesTransferred: copiedMessages.length,
      messagesSkipped: skipped,
      bytesTransferred: copiedBytes,
      unidentifiedOnSource: skipped,
      errors: 0,
    });
    expect(done.progress).toMatchObject({
      total,
      copied: copiedMessages.length,
      skipped,
      errors: 0,
      bytesCopied: copiedBytes,
      folderIndex: source.folders.length,
      folderCount: source.folders.length,
      messagesLeft: 0,
    });
    expect(done.progress?.msgsPerSecond).toBeGreaterThan(0);
    expect(destination.folders.map((f) => f.path)).toEqual(source.folders.map((f) => f.path));

    // imapferry's own check after imapsync exited found every source message on the destination.
    const report = await getJobReport(t.ctx, { id: job.id });
    expect(report.verification).toMatchObject({ sourceMessages: total, destMessages: total, missing: 0 });
    // Every folder but the last was read while imapsync copied the next ones; the check after the run
    // found those unchanged since and read only the last one.
    const folders = source.folders.length;
    expect(report.verification?.folders).toHaveLength(folders);
    expect(report.verification?.unchangedFolders).toBe(folders - 1);

    const log = (await readLog(t.ctx, job.id, 0, 10 * 1024 * 1024)).chunks.map((c) => c.text).join("");
    expect(log).toContain(`checked ${folders - 1} folders while the engine copied the next ones`);
    expect(log).toContain("imapsync");
    expect(log).toContain("Exiting with return value 0 (EX_OK: successful termination)");
    expect(log).not.toContain(users.source.password);
    expect(log).not.toContain(users.dest.password);
  });

  it("with addHeader turned off ends incomplete, naming the messages imapsync could not identify", async () => {
    const users = await standardUsers(imap.pair, "hank");
    const job = await createFixtureJob(t.ctx, imap, users, { options: { addHeader: false } });
    const ended = await waitForJobStatus(t.ctx, job.id, ["done", "incomplete", "failed"]);

    const source = await readMailbox(imap.pair.source, users.source.user, users.source.password);
    const destination = await readMailbox(imap.pair.destination, users.dest.user, users.dest.password);
    const total = source.folders.reduce((n, f) => n + f.messages.length, 0);
    const copied = destination.folders.reduce((n, f) => n + f.messages.length, 0);
    expect(copied).toBeLessThan(total);
    // imapsync itself exits 0 here: only the check after it tells that mail was left behind.
    expect(ended).toMatchObject({ status: "incomplete", exitCode: 0, errorCategory: "incomplete" });
    expect(ended.errorMessage).toContain(
      `${total - copied} of ${total} messages are not on the destination: ${total - copied} no Message-ID (addHeader is off)`,
    );
    const report = await getJobReport(t.ctx, { id: job.id });
    expect(report.verification).toMatchObject({
      sourceMessages: total,
      destMessages: copied,
      missing: total - copied,
    });
  });

  it("fails with exit 161 and the operator's sentence when the source password is wrong", async () => {
    const users = await standardUsers(imap.pair, "bob");
    const job = await createFixtureJob(t.ctx, imap, users, { sourcePassword: "wrong-Password-161" });
    const failed = await waitForJobStatus(t.ctx, job.id, ["done", "failed"]);
    expect(failed).toMatchObject({ status: "failed", exitCode: 161, errorCategory: "source-auth" });
    expect(failed.errorMessage).toContain(users.source.user);
    const log = (await readLog(t.ctx, job.id, 0, 10 * 1024 * 1024)).chunks.map((c) => c.text).join("");
    expect(log).toContain("EXIT_AUTHENTICATION_FAILURE_USER1");
    expect(log).not.toContain("wrong-Password-161");
  });

  it("a dry run is done with nothing on the destination", async () => {
    const users = await standardUsers(imap.pair, "dora");
    const job = await createFixtureJob(t.ctx, imap, users, { dryRun: true });
    const done = await waitForJobStatus(t.ctx, job.id, ["done", "failed"]);
    expect(done).toMatchObject({ status: "done", exitCode: 0 });
    expect(done.stats).toMatchObject({ messagesTransferred: 0 });
    const destination = await readMailbox(imap.pair.destination, users.dest.user, users.dest.password);
    expect(destination.folders.flatMap((f) => f.messages)).toHaveLength(0);
  });

  it("cancels a running imapsync, and a rerun completes the mailbox with no duplicate", async () => {
    const users = await largeUsers(imap.pair, "carol", 200);
    // Throttled so that the cancel lands in the middle of the copy.
    const job = await createFixtureJob(t.ctx, imap, users, { options: { maxMessagesPerSecond: 20 } });
    await waitFor(
      "imapsync to copy some messages",
      async () => ((await getJob(t.ctx, job.id)).progress?.copied ?? 0) >= 5,
      120_000,
    );
    const pid = enginePids.at(-1)!;
    await cancelJob(t.ctx, { id: job.id });
    const cancelled = await waitForJobStatus(t.ctx, job.id, ["cancelled", "done", "failed"]);
    expect(cancelled.status).toBe("cancelled");
    expect(isProcessAlive(pid)).toBe(false);
    const partial = await readMailbox(imap.pair.destination, users.dest.user, users.dest.password);
    const copiedBefore = partial.folders.flatMap((f) => f.messages).length;
    expect(copiedBefore).toBeGreaterThan(0);
    expect(copiedBefore).toBeLessThan(200);

    const rerun = await rerunJob(t.ctx, { id: job.id });
    const done = await waitForJobStatus(t.ctx, rerun.id, ["done", "failed"]);
    expect(done.errorMessage).toBeNull();
    expect(done).toMatchObject({ status: "done", exitCode: 0 });
    expect(done.stats).toMatchObject({ messagesTransferred: 200 - copiedBefore });
    const source = await readMailbox(imap.pair.source, users.source.user, users.source.password);
    const destination = await readMailbox(imap.pair.destination, users.dest.user, users.dest.password);
    expect(destination).toEqual(source);
  });
});
