import { readMailbox, startTcpProxy, type TcpProxy } from "@imapferry/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { isImapferryError } from "../src/errors.ts";
import { cancelJob, getJob, resumeJobNow } from "../src/services/jobs/index.ts";
import type { JobView } from "../src/services/jobs/job-view.ts";
import { createServer } from "../src/services/servers/servers.ts";
import { getSettings, updateSettings } from "../src/services/settings/settings.ts";
import { useJobWorld } from "./support/engine-worker.ts";
import { createFixtureJob, type ImapFixture, largeUsers, type MailboxUsers } from "./support/imap-fixture.ts";
import { type JobTestContext, waitFor, waitForJobStatus } from "./support/job-context.ts";

// A run that stops on something that passes (a destination that went away) waits and resumes by
// itself, within the retry policy; one that stops on something that does not (a refused login) fails.

let t: JobTestContext;
let imap: ImapFixture;
const proxies: TcpProxy[] = [];

useJobWorld((world) => {
  ({ t, imap } = world);
});

afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});

/** The destination Dovecot behind a proxy the test can take away, registered as a server of its own. */
async function proxiedDestination(): Promise<{ serverId: number; proxy: TcpProxy }> {
  const proxy = await startTcpProxy({ host: imap.pair.destination.host, port: imap.pair.destination.port });
  proxies.push(proxy);
  const server = await createServer(t.ctx, {
    name: `destination via ${proxy.port}`,
    host: "127.0.0.1",
    port: proxy.port,
    security: "none",
  });
  return { serverId: server.id, proxy };
}

async function bringBack(proxy: TcpProxy): Promise<void> {
  proxies.push(
    await startTcpProxy({ host: imap.pair.destination.host, port: imap.pair.destination.port }, proxy.port),
  );
}

async function messagesOn(side: "source" | "destination", users: MailboxUsers): Promise<string[]> {
  const server = side === "source" ? imap.pair.source : imap.pair.destination;
  const login = side === "source" ? users.source : users.dest;
  const mailbox = await readMailbox(server, login.user, login.password);
  return mailbox.folders.flatMap((f) => f.messages.map((m) => `${f.path}:${m.sha256}`)).sort();
}

function waitForStatus(jobId: number, statuses: JobView["status"][], timeoutMs = 120_000): Promise<JobView> {
  return waitForJobStatus(t.ctx, jobId, statuses, timeoutMs);
}

describe("automatic retries", () => {
  it("a run whose destination went away waits, resumes by itself no sooner than resumeAt, and completes every message once", async () => {
    await updateSettings(t.ctx, { retryBaseSeconds: 2, retryMaxAttempts: 5 });
    const users = await largeUsers(imap.pair, "dropped", 120, 21);
    const { serverId, proxy } = await proxiedDestination();
    const job = await createFixtureJob(t.ctx, imap, users, {
      destServerId: serverId,
      options: { maxMessagesPerSecond: 8 },
    });
    await waitFor(
      "the job to copy a few messages",
      async () => ((await getJob(t.ctx, job.id)).progress?.copied ?? 0) >= 10,
      120_000,
    );
    // The destination goes away for longer than the engine's own reconnection attempts (~30 s).
    await proxy.close();
    const waiting = await waitForStatus(job.id, ["waiting", "done", "failed"]);
    expect(waiting.status).toBe("waiting");
    expect(waiting.errorCategory).toBe("destination-connect");
    expect(waiting.errorMessage).toMatch(/^The connection to the destination server 127\.0\.0\.1 was lost/);
    expect(waiting.errorMessage).toMatch(/It resumes by itself at .* UTC \(automatic retry 1 of 5\)\.$/);
    expect(waiting.autoRetries).toBe(1);
    expect(waiting.resumeAt).not.toBeNull();
    const firstResumeAt = waiting.resumeAt!.getTime();
    await bringBack(proxy);

    const done = await waitForStatus(job.id, ["done", "failed", "incomplete"], 180_000);
    expect(done.status).toBe("done");
    expect(done.attempt).toBeGreaterThan(waiting.attempt - 1);
    expect(done.resumeAt).toBeNull();
    // It resumed by itself, and not before it said it would (the database's clock on both sides).
    expect(done.startedAt!.getTime()).toBeGreaterThanOrEqual(firstResumeAt);
    expect(await messagesOn("destination", users)).toEqual(await messagesOn("source", users));
  }, 300_000);

  it("Resume now runs a waiting job at once; on a job that is not waiting it is a CONFLICT sentence", async () => {
    // An hour's wait: only Resume now can bring it back within the test.
    await updateSettings(t.ctx, { retryBaseSeconds: 3600, retryMaxAttempts: 5 });
    const users = await largeUsers(imap.pair, "resumed", 20, 22);
    const { serverId, proxy } = await proxiedDestination();
    await proxy.close();
    const job = await createFixtureJob(t.ctx, imap, users, { destServerId: serverId });
    const waiting = await waitForStatus(job.id, ["waiting", "failed", "done"]);
    expect(waiting).toMatchObject({
      status: "waiting",
      errorCategory: "destination-connect",
      autoRetries: 1,
    });
    expect(waiting.resumeAt!.getTime() - Date.now()).toBeGreaterThan(30 * 60_000);

    await bringBack(proxy);
    const resumed = await resumeJobNow(t.ctx, { id: job.id });
    expect(resumed.resumeAt!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    await waitFor(
      "the job to leave waiting",
      async () => (await getJob(t.ctx, job.id)).status !== "waiting",
      30_000,
    );
    const done = await waitForStatus(job.id, ["done", "failed", "incomplete", "waiting"], 60_000);
    expect(done.status).toBe("done");
    expect(await messagesOn("destination", users)).toEqual(await messagesOn("source", users));

    const refused = await resumeJobNow(t.ctx, { id: job.id }).catch((e: unknown) => e);
    expect(isImapferryError(refused) && refused.code).toBe("CONFLICT");
    expect((refused as Error).message).toBe(
      `Job ${job.id} is done, not waiting to resume; there is nothing to resume now.`,
    );
  }, 300_000);

  it("a waiting job can be cancelled: it never runs again", async () => {
    await updateSettings(t.ctx, { retryBaseSeconds: 2, retryMaxAttempts: 5 });
    const users = await largeUsers(imap.pair, "given-up", 10, 23);
    const { serverId, proxy } = await proxiedDestination();
    await proxy.close();
    const job = await createFixtureJob(t.ctx, imap, users, { destServerId: serverId });
    const waiting = await waitForStatus(job.id, ["waiting", "failed", "done"]);
    expect(waiting.status).toBe("waiting");
    const cancelled = await cancelJob(t.ctx, { id: job.id });
    expect(cancelled).toMatchObject({ status: "cancelled", resumeAt: null });
    expect(cancelled.errorMessage).toContain("Cancelled while waiting to resume");
    await bringBack(proxy);
    // Past its resume time: still cancelled, nothing copied.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect((await getJob(t.ctx, job.id)).status).toBe("cancelled");
    expect(await messagesOn("destination", users)).toEqual([]);
  }, 120_000);

  it("a refused login fails at once, without retrying", async () => {
    await updateSettings(t.ctx, { retryBaseSeconds: 1, retryMaxAttempts: 5 });
    const users = await largeUsers(imap.pair, "wrong-password", 5, 24);
    const job = await createFixtureJob(t.ctx, imap, users, { destPassword: "not the password" });
    const failed = await waitForStatus(job.id, ["failed", "waiting", "done"]);
    expect(failed).toMatchObject({
      status: "failed",
      errorCategory: "destination-auth",
      autoRetries: 0,
      resumeAt: null,
    });
  }, 120_000);

  it("a fault the settings do not retry fails at once; a retried-fault list that names something else is refused with a sentence", async () => {
    const refused = await updateSettings(t.ctx, { retryCategories: ["connection", "weather"] }).catch(
      (e: unknown) => e,
    );
    expect(isImapferryError(refused) && refused.problems).toEqual([
      {
        path: ["retryCategories", 1],
        message: "Retried faults are a list of distinct names from: connection, throttled, oauth2-token.",
      },
    ]);
    expect((await getSettings(t.ctx)).retryCategories).toEqual(["connection", "throttled", "oauth2-token"]);

    await updateSettings(t.ctx, { retryBaseSeconds: 1, retryMaxAttempts: 5, retryCategories: ["throttled"] });
    try {
      const users = await largeUsers(imap.pair, "not-retried", 5, 26);
      const { serverId, proxy } = await proxiedDestination();
      await proxy.close();
      const job = await createFixtureJob(t.ctx, imap, users, { destServerId: serverId });
      const failed = await waitForStatus(job.id, ["failed", "waiting", "done"]);
      expect(failed).toMatchObject({
        status: "failed",
        errorCategory: "destination-connect",
        autoRetries: 0,
        attempt: 1,
        resumeAt: null,
      });
      expect(failed.errorMessage).not.toMatch(/resumes by itself|automatic retries/);
    } finally {
      await updateSettings(t.ctx, { retryCategories: ["connection", "throttled", "oauth2-token"] });
    }
  }, 180_000);

  it("stops retrying after the policy's maximum and then fails", async () => {
    await updateSettings(t.ctx, { retryBaseSeconds: 1, retryMaxAttempts: 2 });
    const users = await largeUsers(imap.pair, "never-back", 5, 25);
    const { serverId, proxy } = await proxiedDestination();
    await proxy.close();
    const job = await createFixtureJob(t.ctx, imap, users, { destServerId: serverId });
    const failed = await waitForStatus(job.id, ["failed", "done"], 120_000);
    expect(failed).toMatchObject({
      status: "failed",
      errorCategory: "destination-connect",
      autoRetries: 2,
      attempt: 3,
    });
  }, 180_000);
});
