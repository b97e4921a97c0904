import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { createJob, createServer, importBatch } from "@imapferry/core";
import { generateLargeMailbox, seedMailbox } from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Page, PanelStack } from "./panel-harness.ts";
import {
  checkEachPanelTest,
  openNewJobDialog,
  screenshot,
  signInAsAdmin,
  startPanelStack,
  until,
} from "./panel-harness.ts";

/**
 * What a newcomer reads in the panel, in Debian's Chromium against the whole product: times on their
 * own clock, pages for things that do not exist, sentences instead of raw validation messages,
 * questions before heavy actions, numbers that agree. Each test sets up what it needs.
 */

const PASSWORD = "correct horse";

let stack: PanelStack;
let page: Page;
let oldProvider = 0;
let newProvider = 0;

/** A fresh browser context (own cookies, language and clock), signed in as the admin. */
async function signedInPage(options: { locale?: string; timezoneId?: string } = {}): Promise<Page> {
  const fresh = await stack.browser.newPage({ width: 1280, height: 900, ...options });
  fresh.setDefaultTimeout(120_000);
  await signInAsAdmin(fresh, stack);
  return fresh;
}

/** A finished job row, written straight to the table: only how it is shown matters here. */
async function insertJob(values: {
  name: string;
  createdAt?: Date;
  batchId?: number;
  dryRun?: boolean;
}): Promise<number> {
  const row = await stack.ctx.db
    .insertInto("jobs")
    .values({
      name: values.name,
      source_server_id: oldProvider,
      source_email: "someone@old.test",
      source_secret: stack.ctx.vault.encrypt(PASSWORD),
      dest_server_id: newProvider,
      dest_email: "someone@new.test",
      dest_secret: stack.ctx.vault.encrypt(PASSWORD),
      dry_run: values.dryRun ?? true,
      status: "done" as const,
      batch_id: values.batchId ?? null,
      ...(values.createdAt ? { created_at: values.createdAt } : {}),
      finished_at: values.createdAt ?? new Date(),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

beforeAll(async () => {
  stack = await startPanelStack();
  await stack.imap.source.addUser(`alice@old.test`, PASSWORD);
  await stack.imap.destination.addUser(`alice@new.test`, PASSWORD);
  oldProvider = (
    await createServer(stack.ctx, {
      name: "Old provider",
      host: "127.0.0.1",
      port: stack.imap.source.tlsPort,
      security: "tls",
      acceptSelfSigned: true,
    })
  ).id;
  newProvider = (
    await createServer(stack.ctx, {
      name: "New provider",
      host: "127.0.0.1",
      port: stack.imap.destination.port,
      security: "starttls",
      acceptSelfSigned: true,
    })
  ).id;
  page = await signedInPage();
});

checkEachPanelTest(() => ({ stack, page }));

afterAll(async () => {
  await stack?.close();
});

describe("the panel, as a newcomer reads it", { timeout: 0 }, () => {
  test("times read on the person's clock: AM/PM in en-US, 24-hour in de-DE, the time zone on hover", async () => {
    // 19:18 UTC on a day long past: 3:18 PM in New York (EDT), 20:18 in Berlin (CET).
    const id = await insertJob({ name: "Evening job", createdAt: new Date("2026-03-14T19:18:00Z") });
    const todayId = await insertJob({ name: "Today's job", createdAt: new Date() });
    const cases = [
      {
        locale: "en-US",
        timezoneId: "America/New_York",
        past: /^Mar 14, 2026, 3:18\sPM$/,
        today: /^Today \d{1,2}:\d\d\s(AM|PM)$/,
      },
      {
        locale: "de-DE",
        timezoneId: "Europe/Berlin",
        past: /^14\.03\.2026, 20:18$/,
        today: /^Today \d\d:\d\d$/,
      },
    ];
    for (const c of cases) {
      const reader = await signedInPage({ locale: c.locale, timezoneId: c.timezoneId });
      try {
        await reader.goto(`${stack.url}/jobs`);
        const created = reader.locator(`tr[data-job-id="${id}"] td[data-label="Created"] time`);
        expect((await created.textContent())?.trim()).toMatch(c.past);
        // The tooltip names the zone, so the time cannot be mistaken for the server's or the log's.
        expect(await created.getAttribute("title")).toMatch(
          c.locale === "en-US" ? /EDT|Eastern/ : /MEZ|GMT\+1|Mitteleuropäische/,
        );
        const today = reader.locator(`tr[data-job-id="${todayId}"] td[data-label="Created"] time`);
        expect((await today.textContent())?.trim()).toMatch(c.today);
        // The job page's facts read the same way.
        await reader.goto(`${stack.url}/jobs/${id}`);
        const facts = reader.locator("dl.facts");
        await facts.waitFor();
        expect(await facts.textContent()).toMatch(
          c.locale === "en-US" ? /Mar 14, 2026, 3:18\sPM/ : /14\.03\.2026, 20:18/,
        );
      } finally {
        await reader.context().close();
      }
    }
  });

  test("a job, batch or page that does not exist says so and offers the way back", async () => {
    await page.goto(`${stack.url}/jobs/99999`);
    await page.getByRole("heading", { name: "Job #99999 does not exist" }).waitFor();
    expect(await page.getByText("Loading the job…").count()).toBe(0);
    await page.getByRole("link", { name: "Back to the jobs" }).click();
    await page.waitForURL(/\/jobs$/);

    await page.goto(`${stack.url}/jobs?batch=99999`);
    await page.getByRole("heading", { name: "Batch #99999 does not exist" }).waitFor();
    await page.getByRole("link", { name: "Show all jobs" }).click();
    await page.waitForURL(/\/jobs$/);

    await page.goto(`${stack.url}/servers/42`);
    await page.getByRole("heading", { name: "This page does not exist" }).waitFor();
    expect(await page.getByText("The panel has no page at /servers/42.").count()).toBe(1);
    await screenshot(page, "not-found");
  });

  test("opening the list filtered to a batch shows that batch in the filter", async () => {
    const batch = await stack.ctx.db
      .insertInto("batches")
      .values({ tag: "spring-move", dry_run: true, defaults: {} })
      .returning("id")
      .executeTakeFirstOrThrow();
    await insertJob({ name: "In the batch", batchId: batch.id });
    await page.goto(`${stack.url}/jobs?batch=${batch.id}`);
    await page.locator("[data-batch-summary]").getByText("spring-move").waitFor();
    const filter = page.getByLabel("Filter by batch");
    await until(
      () =>
        filter.evaluate(
          (el) =>
            (el as unknown as { selectedOptions: { textContent: string | null }[] }).selectedOptions[0]
              ?.textContent ?? "",
        ),
      (text) => text === "spring-move",
      "the batch filter to read spring-move",
    );
  });

  test("a connection test without a password says the login was not tested", async () => {
    await page.goto(`${stack.url}/servers`);
    await page
      .locator('tr[data-server="Old provider"]')
      .getByRole("button", { name: "Test connection" })
      .click();
    const dialog = page.getByRole("dialog", { name: "Test Old provider" });
    await dialog.getByLabel("Login (optional)").fill("alice@old.test");
    await dialog.getByRole("button", { name: "Test connection" }).click();
    const result = dialog.locator('[data-test-result="ok"]');
    await result.waitFor();
    expect(await result.locator("strong").textContent()).toBe(
      "Reached the server; the login was not tested (no password)",
    );
    await dialog.getByRole("button", { name: "Close" }).first().click();
  });

  test("a new job whose source and destination are one mailbox is warned about", async () => {
    const { dialog, source, destination } = await openNewJobDialog(page, stack);
    await source.getByLabel("Server").selectOption({ label: "Old provider (127.0.0.1)" });
    await source.getByLabel("Login", { exact: true }).fill("alice@old.test");
    await destination.getByLabel("Server").selectOption({ label: "New provider (127.0.0.1)" });
    await destination.getByLabel("Login", { exact: true }).fill("alice@old.test");
    expect(await dialog.locator("[data-same-mailbox]").count()).toBe(0);
    await destination.getByLabel("Server").selectOption({ label: "Old provider (127.0.0.1)" });
    const warning = dialog.locator("[data-same-mailbox]");
    await warning.waitFor();
    expect(await warning.textContent()).toContain(
      "Source and destination are the same mailbox (alice@old.test",
    );
    await dialog.getByRole("button", { name: "Cancel" }).click();
  });

  test("form errors are sentences about the field, never zod's defaults", async () => {
    const rawZod = /Invalid input|Too small|Too big|expected number/;
    // New job, submitted empty.
    await page.goto(`${stack.url}/jobs`);
    await page.getByRole("button", { name: "New job" }).first().click();
    const jobDialog = page.getByRole("dialog", { name: "New migration job" });
    await jobDialog.getByRole("button", { name: "Queue dry run" }).click();
    const source = jobDialog.getByRole("group", { name: "Source" });
    await source.getByText("Choose the source server.").waitFor();
    await jobDialog
      .getByRole("group", { name: "Destination" })
      .getByText("Choose the destination server.")
      .waitFor();
    expect(await jobDialog.textContent()).not.toMatch(rawZod);
    await jobDialog.getByRole("button", { name: "Cancel" }).click();

    // A port that is not a number.
    await page.goto(`${stack.url}/servers`);
    await page.getByRole("button", { name: "Add server" }).first().click();
    const serverDialog = page.getByRole("dialog", { name: "Add server" });
    await serverDialog.getByLabel("Name").fill("Typo");
    await serverDialog.getByLabel("Host").fill("imap.example.com");
    await serverDialog.getByLabel("Port").fill("abc");
    await serverDialog.getByRole("button", { name: "Add server" }).click();
    await serverDialog.getByText("Enter the port, a whole number from 1 to 65535").waitFor();
    expect(await serverDialog.textContent()).not.toMatch(rawZod);
    await serverDialog.getByRole("button", { name: "Cancel" }).click();

    // No workers at all.
    await page.goto(`${stack.url}/settings`);
    await page.getByLabel("Migrations per worker").fill("0");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByText("Migrations per worker is a whole number from 1 to 64.").waitFor();
    expect(await page.locator("main").textContent()).not.toMatch(rawZod);
  });

  test("option sizes are written and shown as MB and MB/s", async () => {
    const { dialog, source, destination } = await openNewJobDialog(page, stack);
    await source.getByLabel("Server").selectOption({ label: "Old provider (127.0.0.1)" });
    await source.getByLabel("Login", { exact: true }).fill("alice@old.test");
    await source.getByLabel("Password").fill(PASSWORD);
    await destination.getByLabel("Server").selectOption({ label: "New provider (127.0.0.1)" });
    await destination.getByLabel("Login", { exact: true }).fill("alice@new.test");
    await destination.getByLabel("Password").fill(PASSWORD);
    await dialog.getByText("Advanced engine options").click();
    const maxSize = dialog.getByLabel("Max message size");
    await maxSize.fill("lots");
    await maxSize.blur();
    await dialog.getByRole("button", { name: "Queue dry run" }).click();
    await dialog.getByText("Enter a size such as 25 MB or 500 KB.").waitFor();
    await maxSize.fill("25 MB");
    await maxSize.blur();
    await dialog.getByLabel("Max bytes per second").fill("2 MB/s");
    await dialog.getByLabel("Max bytes per second").blur();
    await dialog.getByRole("button", { name: "Queue dry run" }).click();
    await page.waitForURL(/\/jobs\/\d+$/);
    const id = Number(/\/jobs\/(\d+)/.exec(page.url())?.[1]);
    const stored = await stack.ctx.db
      .selectFrom("jobs")
      .select("options")
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    expect(stored.options).toMatchObject({
      maxMessageBytes: 25 * 1024 * 1024,
      maxBytesPerSecond: 2 * 1024 * 1024,
    });
    const options = page.locator("dd.option-list");
    await options.waitFor();
    expect(await options.textContent()).toContain("maxMessageBytes: 25 MB");
    expect(await options.textContent()).toContain("maxBytesPerSecond: 2 MB/s");
    // Editing (once the dry run is over) shows the sizes as they were written.
    await until(
      async () => (await page.locator(".page-head .badge").first().getAttribute("data-status")) ?? "",
      (status) => status !== "queued" && status !== "running",
      "the dry run to end",
    );
    await page.getByRole("button", { name: "Edit" }).click();
    const edit = page.getByRole("dialog", { name: /^Edit / });
    await edit.getByText("Advanced engine options").click();
    expect(await edit.getByLabel("Max message size").inputValue()).toBe("25 MB");
    expect(await edit.getByLabel("Max bytes per second").inputValue()).toBe("2 MB/s");
    await edit.getByRole("button", { name: "Cancel" }).click();
  });

  test("the log view hides imapsync's advice and host lines until asked; the download keeps them", async () => {
    const id = await insertJob({ name: "Noisy log" });
    const text = await readFile(
      path.resolve(import.meta.dirname, "../../../packages/core/test/fixtures/imapsync/alice-dry.log"),
      "utf8",
    );
    await stack.ctx.db.insertInto("job_logs").values({ job_id: id, byte_offset: "0", chunk: text }).execute();
    await stack.ctx.db
      .updateTable("jobs")
      .set({ log_bytes: String(Buffer.byteLength(text)) })
      .where("id", "=", id)
      .execute();
    await page.goto(`${stack.url}/jobs/${id}`);
    const log = page.locator("[role=log] .log-content");
    const shown = await until(
      async () => (await log.textContent()) ?? "",
      (t) => t.includes("Exiting with return value 0"),
      "the whole log in the view",
    );
    for (const noise of [
      "Docker context detected",
      "use option --noid",
      "free GiB of RAM",
      "PID is 7058",
      "Real user id is root",
    ])
      expect(shown).not.toContain(noise);
    for (const kept of [
      "Host1: success login",
      "Messages transferred",
      "Folders synced",
      "Detected 0 errors",
    ])
      expect(shown).toContain(kept);
    await page.getByRole("button", { name: "Show all lines" }).click();
    await until(
      async () => (await log.textContent()) ?? "",
      (t) => t === text,
      "every line of the log in the view",
    );
    await page.getByRole("button", { name: "Hide engine notes" }).click();
    await until(
      async () => (await log.textContent()) ?? "",
      (t) => !t.includes("Docker context detected") && t.includes("Detected 0 errors"),
      "the notes hidden again",
    );
    const download = await page.request.get(`${stack.url}/api/jobs/${id}/log`);
    expect(await download.text()).toBe(text);
  });

  test("a running job's ETA, duration and log size agree with its log and move while it runs", async () => {
    await stack.imap.source.addUser("henry@old.test", PASSWORD);
    await stack.imap.destination.addUser("henry@new.test", PASSWORD);
    await stack.imap.source.seedMaildir(
      "henry@old.test",
      generateLargeMailbox({ messages: 80, folders: 2, seed: 11, averageSize: 2000 }),
    );
    const job = await createJob(stack.ctx, {
      name: "Henry",
      sourceServerId: oldProvider,
      sourceEmail: "henry@old.test",
      sourcePassword: PASSWORD,
      destServerId: newProvider,
      destEmail: "henry@new.test",
      destPassword: PASSWORD,
      dryRun: false,
      options: { maxMessagesPerSecond: 10 },
    });
    await page.goto(`${stack.url}/jobs/${job.id}`);
    const status = () => page.locator(".page-head .badge").first().getAttribute("data-status");
    await until(status, (s) => s === "running", "the job to run");
    // An ETA once messages move, not "estimating…" for the whole run.
    await until(
      async () => (await page.locator(".progress-meta").first().textContent()) ?? "",
      (meta) => /ETA \d+(h|m|s)/.test(meta),
      "an ETA while it runs",
    );
    // The duration and the log size count up while it runs.
    const duration = page.locator('[data-stat="duration"]');
    const logSize = page.locator("[data-log-size]");
    const firstDuration = (await duration.textContent()) ?? "";
    const firstSize = (await logSize.textContent()) ?? "";
    await until(
      async () => (await duration.textContent()) ?? "",
      (d) => d !== firstDuration && d !== "—",
      "the duration to move",
    );
    await until(
      async () => (await logSize.textContent()) ?? "",
      (size) => size !== firstSize,
      "the log size to grow",
    );
    await until(status, (s) => s === "done", "the job to finish");
    // Finished: the duration is the log's "Transfer time", the size the downloaded log's.
    const log = await (await page.request.get(`${stack.url}/api/jobs/${job.id}/log`)).text();
    const transferTime = /Transfer time\s+:\s+([\d.]+) sec/.exec(log)?.[1];
    expect(transferTime).toBeDefined();
    await until(
      async () => (await duration.textContent()) ?? "",
      (d) => d === `${transferTime} s`,
      "the log's transfer time",
    );
    const bytes = Buffer.byteLength(log);
    const expectedSize = bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
    await until(
      async () => (await logSize.textContent()) ?? "",
      (size) => size === expectedSize,
      "the log's size",
    );
  });
  test("a run with mail left behind reads Incomplete: why, the check per folder, the messages, the batch report", async () => {
    await stack.imap.source.addUser("ivan@old.test", PASSWORD);
    await stack.imap.destination.addUser("ivan@new.test", PASSWORD);
    const message = (n: number, body: number) => ({
      source: `From: a@example.org\r\nSubject: Ivan ${n}\r\nMessage-ID: <ivan-${n}@example.org>\r\n\r\n${"x".repeat(body)}\r\n`,
    });
    await seedMailbox(stack.imap.source, "ivan@old.test", PASSWORD, {
      folders: [
        { path: "INBOX", messages: [message(1, 100), message(2, 100), message(3, 60_000)] },
        { path: "Archive", messages: [message(4, 100), message(5, 70_000)] },
      ],
    });
    const csv = [
      "sourceServerId,sourceEmail,sourcePassword,destServerId,destEmail,destPassword,name",
      `${oldProvider},ivan@old.test,${PASSWORD},${newProvider},ivan@new.test,${PASSWORD},Ivan`,
    ].join("\n");
    const imported = await importBatch(stack.ctx, {
      csv,
      tag: "wave-ivan",
      dryRun: false,
      options: { maxMessageBytes: 20_000 },
    });
    const { id: jobId } = await stack.ctx.db
      .selectFrom("jobs")
      .select("id")
      .where("batch_id", "=", imported.batch.id)
      .executeTakeFirstOrThrow();
    await page.goto(`${stack.url}/jobs/${jobId}`);
    const status = () => page.locator(".page-head .badge").first().getAttribute("data-status");
    await until(status, (s) => s === "incomplete", "the job to end incomplete");
    expect((await page.locator(".page-head .badge").first().textContent())?.trim()).toBe("Incomplete");
    const alert = page.getByRole("alert");
    await expect.poll(() => alert.textContent()).toContain("Not every message is on the destination");
    expect(await alert.textContent()).toContain(
      "2 of 5 messages are not on the destination: 2 over maxMessageBytes.",
    );
    // The check's table: each folder with both sides and what is missing, then the messages.
    const table = page.locator("[data-verification-table]");
    await table.waitFor();
    const folderRow = (folder: string) => table.locator(`tr[data-folder="${folder}"]`);
    expect(await folderRow("INBOX").locator("td").allTextContents()).toEqual([
      "INBOX",
      expect.stringMatching(/^3 \(/),
      expect.stringMatching(/^2 \(/),
      "1",
    ]);
    expect(await folderRow("Archive").locator("[data-missing]").textContent()).toBe("1");
    const missing = await table.locator("tr[data-missing-message]").allTextContents();
    expect(missing).toHaveLength(2);
    expect(missing.join("\n")).toMatch(/Ivan 3 .*over maxMessageBytes \(20000\)/);
    expect(missing.join("\n")).toMatch(/Ivan 5 .*over maxMessageBytes \(20000\)/);
    await screenshot(page, "job-detail-incomplete");

    // The list says so too, and its Incomplete filter finds it.
    await page.goto(`${stack.url}/jobs?batch=${imported.batch.id}`);
    const row = page.locator(`tr[data-job-id="${jobId}"]`);
    await expect.poll(() => row.locator(".badge").first().textContent()).toBe("Incomplete");
    const summary = page.locator("[data-batch-summary]");
    await expect.poll(() => summary.textContent()).toContain("1 / 1 finished");
    const downloading = page.waitForEvent("download");
    await summary.getByRole("link", { name: "Report (CSV)" }).click();
    const report = await readFile((await (await downloading).path()) ?? "", "utf8");
    const [header, line] = report.trim().split(/\r?\n/);
    const cells = Object.fromEntries(
      (header ?? "").split(",").map((name, i) => [name, (line ?? "").split(",")[i]]),
    );
    expect(cells).toMatchObject({
      source: "ivan@old.test",
      status: "incomplete",
      source_messages: "5",
      destination_messages: "3",
      missing: "2",
      skipped_reasons: "2 over maxMessageBytes",
    });
  });

  test("a finished dry run's bar and sentence agree with its statistics", async () => {
    await stack.imap.source.addUser("jane@old.test", PASSWORD);
    await stack.imap.destination.addUser("jane@new.test", PASSWORD);
    const message = (n: number, body: number) => ({
      source: `From: a@example.org\r\nSubject: Jane ${n}\r\nMessage-ID: <jane-${n}@example.org>\r\n\r\n${"x".repeat(body)}\r\n`,
    });
    const all = [1, 2, 3, 4, 5, 6].map((n) => message(n, n === 6 ? 40_000 : 100));
    await seedMailbox(stack.imap.source, "jane@old.test", PASSWORD, {
      folders: [{ path: "INBOX", messages: all }],
    });
    // Two of them are already on the destination.
    await seedMailbox(stack.imap.destination, "jane@new.test", PASSWORD, {
      folders: [{ path: "INBOX", messages: all.slice(0, 2) }],
    });
    const job = await createJob(stack.ctx, {
      name: "Jane",
      sourceServerId: oldProvider,
      sourceEmail: "jane@old.test",
      sourcePassword: PASSWORD,
      destServerId: newProvider,
      destEmail: "jane@new.test",
      destPassword: PASSWORD,
      dryRun: true,
      options: { maxMessageBytes: 20_000 },
    });
    await page.goto(`${stack.url}/jobs/${job.id}`);
    const status = () => page.locator(".page-head .badge").first().getAttribute("data-status");
    await until(status, (s) => s === "done", "the dry run to finish");
    await expect.poll(() => page.locator('[data-stat="transferred"]').textContent()).toBe("3");
    // Every message was looked at: the bar is full, and says what a real run would do with them.
    await expect.poll(() => page.locator("[data-progress-count]").first().textContent()).toBe("6 / 6");
    await expect
      .poll(() => page.locator("[data-dry-run-sentence]").textContent())
      .toBe("Would copy 3, 2 already there, 1 cannot be copied: 1 over maxMessageBytes.");
    await page.goto(`${stack.url}/jobs`);
    const cell = page.locator(`tr[data-job-id="${job.id}"] td[data-label="Progress"]`);
    await expect.poll(() => cell.textContent()).toContain("Would copy 3 of 6");
  });
  test("a waiting job counts down to its resume time, and Resume now runs it at once", async () => {
    const id = await insertJob({ name: "Throttled mailbox", dryRun: true });
    await stack.ctx.db
      .updateTable("jobs")
      .set({
        status: "waiting",
        resume_at: new Date(Date.now() + 10 * 60_000),
        auto_retries: 1,
        attempt: 2,
        error_category: "throttled",
        error_message:
          "The source server 127.0.0.1 throttled the migration. It resumes by itself at a later time (automatic retry 1 of 5).",
      })
      .where("id", "=", id)
      .execute();
    await page.goto(`${stack.url}/jobs/${id}`);
    const badge = page.locator(".page-head .badge").first();
    await expect.poll(() => badge.textContent()).toBe("Waiting");
    const alert = page.getByRole("alert");
    expect(await alert.textContent()).toContain("Waiting to resume by itself");
    const countdown = page.locator("[data-resume-countdown]");
    const first = ((await countdown.textContent()) ?? "").trim();
    expect(first).toMatch(/^in (9m|10m) \d\ds\.$/);
    expect(await page.locator("[data-auto-retries]").textContent()).toBe("1");
    // It counts down while the page is open.
    await until(
      async () => ((await countdown.textContent()) ?? "").trim(),
      (text) => text !== first,
      "the countdown to move",
    );
    // A waiting job is still on its way: no rerun, but cancel and Resume now.
    await expect.poll(() => page.getByRole("button", { name: "Rerun" }).count()).toBe(0);
    await expect.poll(() => page.getByRole("button", { name: "Cancel" }).count()).toBe(1);
    await page.getByRole("button", { name: "Resume now" }).click();
    await until(
      async () => (await badge.getAttribute("data-status")) ?? "",
      (status) => status !== "waiting",
      "the job to leave waiting",
    );
    await expect.poll(() => page.getByRole("button", { name: "Resume now" }).count()).toBe(0);
  });
  test("a certificate that does not verify shows its fingerprint; trusting it retests at once", async () => {
    for (const [name, port, security] of [
      ["Self-signed TLS", stack.imap.source.tlsPort, "tls"],
      ["Self-signed STARTTLS", stack.imap.destination.port, "starttls"],
    ] as const) {
      const server = await createServer(stack.ctx, { name, host: "127.0.0.1", port, security });
      const pem =
        security === "tls" ? stack.imap.source.certificatePem : stack.imap.destination.certificatePem;
      await page.goto(`${stack.url}/servers`);
      await page
        .locator(`tr[data-server="${name}"]`)
        .getByRole("button", { name: "Test connection" })
        .click();
      const dialog = page.getByRole("dialog", { name: `Test ${name}` });
      await dialog.getByRole("button", { name: "Test connection" }).click();
      const failure = dialog.locator('[data-test-result="failed"]');
      await failure.waitFor();
      expect(await failure.getAttribute("data-category")).toBe("tls");
      // The same fingerprint `openssl x509 -fingerprint -sha256` prints for the server's certificate.
      expect(await failure.locator("[data-fingerprint]").textContent()).toBe(
        new X509Certificate(pem).fingerprint256,
      );
      await dialog.getByRole("button", { name: "Trust this certificate and retest" }).click();
      await dialog.locator('[data-test-result="ok"]').waitFor();
      const stored = await stack.ctx.db
        .selectFrom("servers")
        .select(["accept_self_signed", "port", "security"])
        .where("id", "=", server.id)
        .executeTakeFirstOrThrow();
      expect(stored).toEqual({ accept_self_signed: true, port, security });
      await dialog.getByRole("button", { name: "Close" }).first().click();
    }
  });
});
