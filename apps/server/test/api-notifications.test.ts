import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { findFreePort } from "@imapferry/db";
import type { TestDatabase } from "@imapferry/db/testing";
import { createTestDatabase } from "@imapferry/db/testing";
import type { ImapferryClient } from "@imapferry/sdk";
import { createClient } from "@imapferry/sdk";
import type { ImapPair, ReceivedMail, SmtpTestServer } from "@imapferry/testkit";
import { seedMailbox, startImapPair, startSmtpServer } from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliProcess, runCli } from "./support/cli-process.ts";
import { waitFor } from "./support/wait-for.ts";

const SOURCE_PASSWORD = "src-Notify-5521!";
const DEST_PASSWORD = "dst-Notify-9034?";
const NOTIFY_FROM = "imapferry <ferry@notify.example>";
const RECIPIENT = "ops@notify.example";
const TEST_TIMEOUT_MS = 600_000;

function message(i: number): string {
  return [
    `From: Sender ${i} <sender${i}@example.org>`,
    "To: someone@example.com",
    `Subject: Message number ${i}`,
    `Message-ID: <notify-${i}@example.org>`,
    "Date: Mon, 02 Nov 2026 10:00:00 +0000",
    "",
    `Body of message ${i}.`,
    "",
  ].join("\r\n");
}

/** The server the test database lives on, pointed at that database: what an operator sets DATABASE_URL to. */
function databaseUrl(database: TestDatabase): string {
  const server =
    process.env.IMAPFERRY_TEST_SERVER_URL ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!server) throw new Error("No test PostgreSQL server: the vitest global setup sets one.");
  const url = new URL(server);
  url.pathname = `/${database.name}`;
  return url.toString();
}

function mailsAbout(smtp: SmtpTestServer, mailbox: string): ReceivedMail[] {
  return smtp.messages.filter((m) => m.subject.includes(mailbox) || m.text.includes(mailbox));
}

describe("email notifications from `imapferry start` with SMTP from the environment", () => {
  let smtp: SmtpTestServer;
  let imap: ImapPair;
  let database: TestDatabase;
  let server: CliProcess;
  let client: ImapferryClient;
  let publicUrl: string;
  let sourceServerId: number;
  let destServerId: number;
  const tempDirs: string[] = [];
  const mailboxes = [
    "alice@example.com",
    "bob@example.com",
    "carol@example.com",
    "dave@example.com",
    "erin@example.com",
  ];

  /** The job's notification record, read straight from the database (an API read would watch it). */
  async function notificationOf(dedupeKey: string) {
    return database.db
      .selectFrom("notifications")
      .select(["status", "suppressed_reason", "subject"])
      .where("dedupe_key", "=", dedupeKey)
      .executeTakeFirst();
  }

  function jobInput(mailbox: string, extra: { dryRun?: boolean; slow?: boolean } = {}) {
    return {
      name: mailbox,
      sourceServerId,
      sourceEmail: mailbox,
      sourcePassword: SOURCE_PASSWORD,
      destServerId,
      destEmail: mailbox,
      destPassword: DEST_PASSWORD,
      dryRun: extra.dryRun ?? false,
      ...(extra.slow ? { options: { maxMessagesPerSecond: 10 } } : {}),
    };
  }

  beforeAll(async () => {
    [smtp, imap, database] = await Promise.all([startSmtpServer(), startImapPair(), createTestDatabase()]);
    for (const user of mailboxes) {
      await imap.source.addUser(user, SOURCE_PASSWORD);
      await imap.destination.addUser(user, DEST_PASSWORD);
      await seedMailbox(imap.source, user, SOURCE_PASSWORD, {
        folders: [
          { path: "INBOX", messages: Array.from({ length: 30 }, (_, i) => ({ source: message(i) })) },
        ],
      });
    }
    const dataDir = await mkdtemp(path.join(tmpdir(), "imapferry-notify-"));
    const webRoot = await mkdtemp(path.join(tmpdir(), "imapferry-notify-web-"));
    tempDirs.push(dataDir, webRoot);
    await writeFile(path.join(webRoot, "index.html"), "<!doctype html><title>imapferry panel</title>");
    const port = await findFreePort();
    publicUrl = `http://127.0.0.1:${port}`;
    server = runCli(["start"], {
      DATABASE_URL: databaseUrl(database),
      PORT: String(port),
      IMAPFERRY_DATA_DIR: dataDir,
      IMAPFERRY_WEB_ROOT: webRoot,
      IMAPFERRY_ENGINE: "builtin",
      IMAPFERRY_PUBLIC_URL: publicUrl,
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      NOTIFY_FROM,
    });
    await server.waitFor(/imapferry is running/);
    const password = /with the password\s+(\S+)/.exec(server.output())?.[1];
    if (!password) throw new Error(`No admin password printed:\n${server.output()}`);

    let cookie = "";
    const panel = createClient({
      url: publicUrl,
      async fetch(input, init) {
        const headers = new Headers(init?.headers);
        if (cookie) headers.set("cookie", cookie);
        const response = await fetch(input, { ...init, headers });
        cookie = response.headers.get("set-cookie")?.split(";")[0] ?? cookie;
        return response;
      },
    });
    await panel.auth.login.mutate({ username: "admin", password });
    const { token } = await panel.tokens.create.mutate({ name: "notifications test" });
    client = createClient({ url: publicUrl, token });
    await panel.auth.logout.mutate();

    const source = await client.servers.create.mutate({
      name: "old provider",
      host: "127.0.0.1",
      port: imap.source.port,
      security: "none",
    });
    const dest = await client.servers.create.mutate({
      name: "new provider",
      host: "127.0.0.1",
      port: imap.destination.port,
      security: "none",
    });
    sourceServerId = source.id;
    destServerId = dest.id;
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
    await Promise.all([smtp?.close(), imap?.stop(), database?.drop()]);
    for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
  }, TEST_TIMEOUT_MS);

  it(
    "health says emails are on once SMTP_URL, NOTIFY_FROM and a recipient are set",
    async () => {
      const before = await client.health.query();
      expect(before.notifications).toEqual({
        configured: false,
        detail: `SMTP is configured (127.0.0.1:${smtp.port}) but no notification recipients are set in the settings.`,
      });
      const settings = await client.settings.update.mutate({ notificationRecipients: [RECIPIENT] });
      expect(settings.notificationRecipients).toEqual([RECIPIENT]);
      const after = await client.health.query();
      expect(after.notifications).toEqual({
        configured: true,
        detail: `Emails are sent through 127.0.0.1:${smtp.port} from ${NOTIFY_FROM}.`,
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a job someone follows with jobs.get while it runs sends no email",
    async () => {
      const job = await client.jobs.create.mutate(jobInput("bob@example.com", { slow: true }));
      const seen = new Set<string>();
      // What a script or a person refreshing the job page does.
      for (;;) {
        const current = await client.jobs.get.query({ id: job.id });
        seen.add(current.status);
        if (current.status !== "queued" && current.status !== "running") break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(seen).toContain("running");
      expect(seen).toContain("done");
      const record = await waitFor("bob's notification record", () => notificationOf(`job:${job.id}:done`));
      expect(record).toMatchObject({
        status: "suppressed",
        suppressed_reason: "someone was watching the job",
      });
      // Nothing was queued for it, so no later email can come (checked again after a later email arrived).
      expect(mailsAbout(smtp, "bob@example.com")).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a job shown live on the whole jobs page (jobs.events without a filter) sends no email",
    async () => {
      const page = new AbortController();
      const statuses: string[] = [];
      let jobId = 0;
      let live!: () => void;
      const isLive = new Promise<void>((resolve) => {
        live = resolve;
      });
      const following = (async () => {
        for await (const event of client.watchJobs({ signal: page.signal })) {
          if (event.type === "resync") live();
          if (event.type === "job" && event.jobId === jobId) statuses.push(event.status);
        }
      })();
      try {
        await isLive;
        jobId = (await client.jobs.create.mutate(jobInput("erin@example.com", { slow: true }))).id;
        const record = await waitFor("erin's notification record", () => notificationOf(`job:${jobId}:done`));
        expect(record).toMatchObject({
          status: "suppressed",
          suppressed_reason: "someone was watching the job",
        });
        expect(statuses).toContain("running");
      } finally {
        page.abort();
        await following.catch(() => undefined);
      }
      expect(mailsAbout(smtp, "erin@example.com")).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a job nobody watches sends exactly one email when it ends done, even while a client polls the list",
    async () => {
      const before = smtp.messages.length;
      const job = await client.jobs.create.mutate(jobInput("alice@example.com"));
      // An API client polling the list of failed jobs shows no alice: it must not silence her email.
      let polls = 0;
      let polling = true;
      const poller = (async () => {
        while (polling) {
          const page = await client.jobs.list.query({ status: ["failed"] });
          expect(page.items.map((j) => j.id)).not.toContain(job.id);
          polls++;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      let mails: ReceivedMail[];
      try {
        mails = (await smtp.waitForMessages(before + 1)).slice(before);
      } finally {
        polling = false;
        await poller;
      }
      expect(polls).toBeGreaterThan(0);
      // Recorded as sent once the SMTP server took it (a moment after it arrived there).
      await waitFor("alice's notification to be recorded as sent", async () => {
        const record = await notificationOf(`job:${job.id}:done`);
        return record?.status === "sent";
      });
      const [mail] = mails;
      expect(mail?.subject).toBe("[imapferry] Done: alice@example.com");
      expect(mail?.envelopeTo).toEqual([RECIPIENT]);
      expect(mail?.from).toBe("ferry@notify.example");
      expect(mail?.text).toContain("The migration of alice@example.com to alice@example.com finished.");
      expect(mail?.text).toMatch(/Transferred: +30 messages/);
      expect(mail?.text).toContain(`Open the job: ${publicUrl}/jobs/${job.id}\n`);
      expect(mail?.raw).not.toContain(SOURCE_PASSWORD);
      expect(mail?.raw).not.toContain(DEST_PASSWORD);
      expect(mailsAbout(smtp, "alice@example.com")).toHaveLength(1);
      expect(mailsAbout(smtp, "bob@example.com")).toEqual([]);
      expect(mailsAbout(smtp, "erin@example.com")).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a batch nobody watches sends one summary whose link opens the jobs list filtered to the batch",
    async () => {
      const before = smtp.messages.length;
      const imported = await client.importBatch(
        [jobInput("carol@example.com", { dryRun: true }), jobInput("dave@example.com", { dryRun: true })],
        { tag: "notify-wave" },
      );
      const batchId = imported.batch.id;
      const record = await waitFor("the batch summary record", () => notificationOf(`batch:${batchId}`));
      expect(record.suppressed_reason).toBeNull();
      const [summary] = (await smtp.waitForMessages(before + 1)).slice(before);
      expect(summary?.subject).toBe("[imapferry] Batch notify-wave finished: 2 done");
      expect(summary?.text).toContain("Every job of the batch notify-wave has ended: 2 done.");

      const link = /^Open the batch: (\S+)$/m.exec(summary?.text ?? "")?.[1];
      expect(link).toBe(`${publicUrl}/jobs?batch=${batchId}`);
      // The panel's jobs page reads the batch filter from `batch` (apps/web/src/pages/jobs/jobs-page.tsx).
      const url = new URL(link ?? "");
      expect(url.pathname).toBe("/jobs");
      expect(url.searchParams.get("batch")).toBe(String(batchId));
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await page.text()).toContain("<title>imapferry panel</title>");

      // One summary instead of an email per job (the default setting).
      expect(mailsAbout(smtp, "carol@example.com")).toEqual([]);
      expect(mailsAbout(smtp, "dave@example.com")).toEqual([]);
      expect(smtp.messages.slice(before)).toHaveLength(1);
    },
    TEST_TIMEOUT_MS,
  );
});
