import type { ImapferryClient, MailboxRow } from "@imapferry/sdk";
import { rowsToCsv } from "@imapferry/sdk";
import type { ImapPair } from "@imapferry/testkit";
import { seedMailbox, startImapPair } from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";
import { addImapPairServers, adminTokenClient } from "./support/admin-client.ts";

// A batch as a migration project: each mailbox pair is one line, whose latest run counts.

const PASSWORD = "Batch-Reruns-pw1";
const USERS = ["anna@example.com", "ben@example.com", "cleo@example.com", "dan@example.com"];

describe("reruns in a batch", () => {
  let server: ApiTestServer;
  let imap: ImapPair;
  let client: ImapferryClient;
  let sourceId: number;
  let destId: number;
  let batchId: number;

  function row(user: string, overrides: Partial<MailboxRow> = {}): MailboxRow {
    return {
      sourceServerId: sourceId,
      sourceEmail: user,
      sourcePassword: PASSWORD,
      destServerId: destId,
      destEmail: user,
      destPassword: PASSWORD,
      ...overrides,
    };
  }

  async function jobOf(user: string, includeSuperseded = false) {
    const page = await client.jobs.list.query({ batchId, includeSuperseded, limit: 100 });
    return page.items.filter((j) => j.sourceEmail === user);
  }

  beforeAll(async () => {
    [server, imap] = await Promise.all([startApiTestServer(), startImapPair()]);
    for (const user of USERS) {
      await imap.source.addUser(user, PASSWORD);
      await imap.destination.addUser(user, PASSWORD);
      await seedMailbox(imap.source, user, PASSWORD, {
        folders: [
          {
            path: "INBOX",
            messages: [1, 2].map((n) => ({
              source: `From: a@example.org\r\nSubject: ${user} ${n}\r\nMessage-ID: <${n}.${user}>\r\n\r\nhello\r\n`,
            })),
          },
        ],
      });
    }
    ({ client } = await adminTokenClient(server, { name: "reruns" }));
    ({ sourceId, destId } = await addImapPairServers(client, imap));
    // cleo's destination password and dan's source password are wrong.
    const imported = await client.importBatch(
      [
        row("anna@example.com"),
        row("ben@example.com"),
        row("cleo@example.com", { destPassword: "wrong-password" }),
        row("dan@example.com", { sourcePassword: "wrong-password" }),
      ],
      { tag: "project-1", dryRun: false },
    );
    batchId = imported.batch.id;
    await client.waitForBatch(batchId);
  });

  afterAll(async () => {
    await server?.stop();
    await imap?.stop();
  });

  it("a rerun that succeeds counts as done; the old failure leaves the default lists but stays in history", async () => {
    expect((await client.batches.get.query({ id: batchId })).counts).toMatchObject({ done: 2, failed: 2 });
    const [failedCleo] = await jobOf("cleo@example.com");
    if (!failedCleo) throw new Error("cleo's job is missing");
    await client.jobs.update.mutate({ id: failedCleo.id, destPassword: PASSWORD });
    const rerun = await client.jobs.rerun.mutate({ id: failedCleo.id });
    const batch = await client.waitForBatch(batchId);
    expect(batch.counts).toMatchObject({ done: 3, failed: 1 });
    expect(batch.total).toBe(4);

    const latest = await client.jobs.list.query({ batchId });
    expect(latest.items.map((j) => j.id)).not.toContain(failedCleo.id);
    expect(latest.items).toHaveLength(4);
    const failed = await client.jobs.list.query({ batchId, status: "failed" });
    expect(failed.items.map((j) => j.sourceEmail)).toEqual(["dan@example.com"]);
    const everyFailure = await client.jobs.list.query({ status: "failed" });
    expect(everyFailure.items.map((j) => j.id)).not.toContain(failedCleo.id);

    const history = await jobOf("cleo@example.com", true);
    expect(history.map((j) => [j.id, j.status, j.supersededBy])).toEqual([
      [rerun.id, "done", null],
      [failedCleo.id, "failed", rerun.id],
    ]);
    expect(await client.jobs.previousRuns.query({ id: rerun.id })).toMatchObject([
      { id: failedCleo.id, status: "failed" },
    ]);

    const report = await client.batches.report.query({ id: batchId });
    expect(report.rows).toHaveLength(4);
    expect(report.rows.find((r) => r.source === "cleo@example.com")).toMatchObject({
      jobId: rerun.id,
      status: "done",
      attempts: 2,
    });
    expect(report.totals.byStatus).toEqual({ done: 3, failed: 1 });
  });

  it('"Rerun failed" reruns exactly the latest failed, incomplete or interrupted runs', async () => {
    const [dan] = await jobOf("dan@example.com");
    const result = await client.batches.rerunFailed.mutate({ id: batchId });
    expect(result.results.map((r) => r.id)).toEqual([dan?.id]);
    expect(result.succeeded).toBe(1);
    const batch = await client.waitForBatch(batchId);
    // dan's password is still wrong: one failure, as before, and still four mailboxes.
    expect(batch.counts).toMatchObject({ done: 3, failed: 1 });
    expect(batch.total).toBe(4);
    expect(await jobOf("dan@example.com", true)).toHaveLength(2);
    expect((await client.batches.report.query({ id: batchId })).rows).toHaveLength(4);
    await expect(client.batches.rerunFailed.mutate({ id: 987_654 })).rejects.toMatchObject({
      data: { code: "NOT_FOUND" },
    });
  });

  it('"Run real" reruns the ended dry runs of a dry-run batch for real', async () => {
    const dry = await client.importBatch([row("anna@example.com"), row("ben@example.com")], {
      tag: "project-dry",
      dryRun: true,
    });
    const ended = await client.waitForBatch(dry.batch.id);
    expect(ended).toMatchObject({ dryRun: true, endedDryRuns: 2, counts: { done: 2 } });
    const result = await client.batches.runReal.mutate({ id: dry.batch.id });
    expect(result.succeeded).toBe(2);
    const real = await client.waitForBatch(dry.batch.id);
    expect(real).toMatchObject({ dryRun: false, endedDryRuns: 0, total: 2, counts: { done: 2 } });
    const jobs = await client.jobs.list.query({ batchId: dry.batch.id });
    expect(jobs.items.map((j) => j.dryRun)).toEqual([false, false]);
  });
});

describe("importing the valid rows of a file with bad ones", () => {
  let server: ApiTestServer;
  let client: ImapferryClient;
  let sourceId: number;

  beforeAll(async () => {
    server = await startApiTestServer({ worker: false });
    ({ client } = await adminTokenClient(server, { name: "partial" }));
    sourceId = (await client.servers.create.mutate({ name: "old", host: "imap.old.example" })).id;
    await client.servers.create.mutate({ name: "new", host: "imap.new.example" });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const rows = (): MailboxRow[] => [
    {
      sourceServerId: sourceId,
      sourceEmail: "a@old.example",
      sourcePassword: "p",
      destServerId: sourceId + 1,
      destEmail: "a@new.example",
      destPassword: "p",
      dryRun: false,
    },
    {
      sourceServerId: sourceId,
      sourceEmail: "-not-a-login",
      sourcePassword: "p",
      destServerId: sourceId + 1,
      destEmail: "b@new.example",
      destPassword: "p",
    },
    {
      sourceServerId: sourceId,
      sourceEmail: "c@old.example",
      sourcePassword: "p",
      destServerId: sourceId + 1,
      destEmail: "c@new.example",
      destPassword: "p",
      dryRun: true,
    },
  ];

  async function jobCount(): Promise<number> {
    const row = await server.ctx.db
      .selectFrom("jobs")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  it("without skipInvalid writes nothing and names the line and column", async () => {
    await expect(client.importBatch(rows(), { tag: "all-or-nothing" })).rejects.toThrow(
      /^Line 3, column sourceEmail: "-not-a-login" starts with "-", which no login may\. .*nothing was imported/,
    );
    expect(await jobCount()).toBe(0);
  });

  it("with skipInvalid imports the valid rows, says which run for real, and gives back the rejected row", async () => {
    const preview = await client.importBatch(rows(), { preview: true });
    expect(preview).toMatchObject({
      ok: false,
      partialPossible: true,
      validCount: 2,
      realCount: 1,
      dryRunCount: 1,
      rejectedCount: 1,
    });
    const result = await client.importBatch(rows(), { tag: "partial", skipInvalid: true });
    expect(result).toMatchObject({ jobCount: 2, realCount: 1, dryRunCount: 1 });
    expect(result.rejected).toEqual([
      {
        index: 1,
        line: 3,
        row: rows()[1],
        errors: [
          { line: 3, column: "sourceEmail", reason: '"-not-a-login" starts with "-", which no login may.' },
        ],
      },
    ]);
    expect(await jobCount()).toBe(2);
    // The row with its password is the caller's own: the server's answer names it by index only.
    const secretRows = rows().map((r) => ({ ...r, sourcePassword: "Never-Echoed-pw9" }));
    const raw = await client.batches.import.mutate({
      csv: rowsToCsv(secretRows),
      tag: "raw",
      skipInvalid: true,
    });
    expect(JSON.stringify(raw)).not.toContain("Never-Echoed-pw9");
    expect(await jobCount()).toBe(4);
    const fixed = result.rejected.map((r) => ({ ...r.row, sourceEmail: "b@old.example" }));
    const again = await client.importBatch(rowsToCsv(fixed), { tag: "partial-fixed" });
    expect(again.jobCount).toBe(1);
    expect(await jobCount()).toBe(5);
  });
});
