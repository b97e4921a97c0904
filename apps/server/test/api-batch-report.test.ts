import type { ImapferryClient } from "@imapferry/sdk";
import type { ImapPair, SeedMessage } from "@imapferry/testkit";
import { seedMailbox, startImapPair } from "@imapferry/testkit";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";
import { addImapPairServers, adminTokenClient } from "./support/admin-client.ts";

// A hosting admin's proof after a wave: the batch report, as the API and the CSV download give it.

const PASSWORD = "Batch-Report-pw1";

function message(n: number, bodyBytes: number): SeedMessage {
  return {
    source: [
      `From: Sender ${n} <sender${n}@example.org>`,
      "To: owner@example.com",
      `Subject: Report test ${n}`,
      `Message-ID: <report-${n}@example.org>`,
      "Date: Mon, 02 Nov 2026 10:00:00 +0000",
      "",
      "x".repeat(bodyBytes),
      "",
    ].join("\r\n"),
  };
}

describe("the batch report of a 3-mailbox batch", () => {
  let server: ApiTestServer;
  let imap: ImapPair;
  let client: ImapferryClient;
  let batchId: number;
  // anna's 5 small messages all fit; ben has 4 small and 2 over the batch's 20 kB limit; cleo's
  // destination password is wrong.
  const mailboxes = [
    { user: "anna@example.com", small: 5, large: 0 },
    { user: "ben@example.com", small: 4, large: 2 },
    { user: "cleo@example.com", small: 3, large: 0 },
  ];

  beforeAll(async () => {
    [server, imap] = await Promise.all([startApiTestServer(), startImapPair()]);
    for (const box of mailboxes) {
      await imap.source.addUser(box.user, PASSWORD);
      await imap.destination.addUser(box.user, PASSWORD);
      const messages = [
        ...Array.from({ length: box.small }, (_, i) => message(i, 300)),
        ...Array.from({ length: box.large }, (_, i) => message(100 + i, 50_000)),
      ];
      await seedMailbox(imap.source, box.user, PASSWORD, { folders: [{ path: "INBOX", messages }] });
    }
    ({ client } = await adminTokenClient(server, { name: "reports" }));
    const { sourceId, destId } = await addImapPairServers(client, imap, {
      source: "old host",
      destination: "new host",
    });
    const imported = await client.importBatch(
      mailboxes.map((box) => ({
        sourceServerId: sourceId,
        sourceEmail: box.user,
        sourcePassword: PASSWORD,
        destServerId: destId,
        destEmail: box.user,
        destPassword: box.user.startsWith("cleo") ? "not-the-password" : PASSWORD,
      })),
      { tag: "wave-report", dryRun: false, options: { maxMessageBytes: 20_000 } },
    );
    batchId = imported.batch.id;
    await client.waitForBatch(batchId);
  });

  afterAll(async () => {
    await server?.stop();
    await imap?.stop();
  });

  it("has one row per mailbox with the status, both sides' counts and what is missing and why", async () => {
    const report = await client.batches.report.query({ id: batchId });
    const byUser = new Map(report.rows.map((row) => [row.source, row]));
    expect(byUser.get("anna@example.com")).toMatchObject({
      status: "done",
      sourceMessages: 5,
      destMessages: 5,
      missing: 0,
      copied: 5,
      skipped: 0,
      skippedReasons: "",
      sourceServer: "old host",
      destServer: "new host",
      attempts: 1,
    });
    expect(byUser.get("ben@example.com")).toMatchObject({
      status: "incomplete",
      sourceMessages: 6,
      destMessages: 4,
      missing: 2,
      copied: 4,
      skipped: 2,
      skippedReasons: "2 over maxMessageBytes",
    });
    expect(byUser.get("cleo@example.com")).toMatchObject({
      status: "failed",
      sourceMessages: null,
      missing: null,
      copied: 0,
    });
    expect(byUser.get("cleo@example.com")?.sentence).toContain("cleo@example.com");
    expect(report.totals).toMatchObject({
      mailboxes: 3,
      byStatus: { done: 1, incomplete: 1, failed: 1 },
      missing: 2,
      copied: 9,
    });
  });

  it("downloads as CSV with the same numbers, and the passwords are nowhere in it", async () => {
    const response = await client.downloadBatchReport(batchId);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("content-disposition")).toContain(`batch-${batchId}-wave-report-report.csv`);
    const text = await response.text();
    expect(text).not.toContain(PASSWORD);
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(3);
    const byUser = new Map(rows.map((row) => [row.source, row]));
    expect(byUser.get("anna@example.com")).toMatchObject({
      status: "done",
      source_messages: "5",
      destination_messages: "5",
      missing: "0",
      copied: "5",
      skipped: "0",
      attempts: "1",
      error: "",
    });
    expect(byUser.get("ben@example.com")).toMatchObject({
      status: "incomplete",
      source_messages: "6",
      destination_messages: "4",
      missing: "2",
      copied: "4",
      skipped: "2",
      skipped_reasons: "2 over maxMessageBytes",
    });
    expect(Number(byUser.get("ben@example.com")?.source_bytes)).toBeGreaterThan(
      Number(byUser.get("ben@example.com")?.destination_bytes) + 100_000,
    );
    expect(byUser.get("cleo@example.com")).toMatchObject({
      status: "failed",
      source_messages: "",
      copied: "0",
    });
    expect(byUser.get("cleo@example.com")?.error).toContain("cleo@example.com");
    for (const row of rows) expect(Number.isNaN(Date.parse(row.last_run_at ?? ""))).toBe(false);
  });

  it("of an unknown batch is a NOT_FOUND sentence, from the API and the download alike", async () => {
    await expect(client.batches.report.query({ id: 987_654 })).rejects.toMatchObject({
      data: { code: "NOT_FOUND" },
    });
    await expect(client.downloadBatchReport(987_654)).rejects.toThrow(/batch/i);
    await expect(client.jobs.report.query({ id: 987_654 })).rejects.toMatchObject({
      data: { code: "NOT_FOUND" },
    });
  });
  it("of 10,000 mailboxes downloads whole, one row per mailbox pair (a rerun replaces its original)", async () => {
    const { db } = server.ctx;
    const batch = await db
      .insertInto("batches")
      .values({ tag: "wave-10k", dry_run: false, defaults: {} })
      .returning("id")
      .executeTakeFirstOrThrow();
    const [source, destination] = await Promise.all(
      ["old host", "new host"].map((name) =>
        db.selectFrom("servers").select("id").where("name", "=", name).executeTakeFirstOrThrow(),
      ),
    );
    const secret = server.ctx.vault.encrypt(PASSWORD);
    const copies = { messagesTransferred: 12, messagesSkipped: 0, errors: 0 };
    const columns = `name, source_server_id, source_email, source_secret, dest_server_id, dest_email,
      dest_secret, dry_run, batch_id, started_at, finished_at, status`;
    await server.ctx.pool.query(
      `insert into jobs (${columns}, stats)
       select 'm' || n, $1, 'm' || n || '@example.com', $2, $3, 'm' || n || '@example.com', $2, false, $4,
         now() - interval '1 minute', now(), 'done', $5::jsonb
       from generate_series(1, 10000) n`,
      [source?.id, secret, destination?.id, batch.id, JSON.stringify(copies)],
    );
    // m1's pair was run a second time (a rerun, which supersedes the first run; m1 has no mailbox on the
    // test servers, so it fails): the report shows that latest run, counting two attempts.
    const m1 = await db
      .selectFrom("jobs")
      .select("id")
      .where("batch_id", "=", batch.id)
      .where("name", "=", "m1")
      .executeTakeFirstOrThrow();
    const rerun = await client.jobs.rerun.mutate({ id: m1.id });
    const deadline = Date.now() + 60_000;
    while ((await client.jobs.get.query({ id: rerun.id })).status !== "failed") {
      if (Date.now() > deadline) throw new Error("the rerun of m1 did not fail within a minute");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const text = await (await client.downloadBatchReport(batch.id)).text();
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(10_000);
    expect(new Set(rows.map((row) => row.destination)).size).toBe(10_000);
    const again = rows.find((row) => row.destination === "m1@example.com");
    expect(again).toMatchObject({ status: "failed", attempts: "2" });
    expect(again?.error).toContain("m1@example.com");
    expect(rows.filter((row) => row.status === "done" && row.copied === "12")).toHaveLength(9_999);
  });
});
