import { readFile } from "node:fs/promises";
import { createJob, createServer, updateSettings } from "@imapferry/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Page, PanelStack } from "./panel-harness.ts";
import {
  expectNoConsoleErrors,
  openDesktopPage,
  screenshot,
  screenshotOnFailure,
  signInAsAdmin,
  startPanelStack,
  until,
} from "./panel-harness.ts";

// A batch as a migration project in the panel: a partial import, "Rerun failed", "Run real" and the
// history of a mailbox's runs.

const PASSWORD = "correct horse";

let stack: PanelStack;
let page: Page;
let sourceId = 0;
let destId = 0;

const text = async (selector: string) => ((await page.locator(selector).first().textContent()) ?? "").trim();

beforeAll(async () => {
  stack = await startPanelStack();
  for (const user of ["anna", "ben", "cleo"]) {
    await stack.imap.source.addUser(`${user}@old.test`, PASSWORD);
    await stack.imap.destination.addUser(`${user}@new.test`, PASSWORD);
  }
  const server = (name: string, port: number) =>
    createServer(stack.ctx, { name, host: "127.0.0.1", port, security: "none" });
  sourceId = (await server("Old provider", stack.imap.source.port)).id;
  destId = (await server("New provider", stack.imap.destination.port)).id;
  page = await openDesktopPage(stack);
  await signInAsAdmin(page, stack);
});

// A failing step leaves a picture of what the browser showed.
screenshotOnFailure(() => page);

afterAll(async () => {
  if (stack) expectNoConsoleErrors(stack);
  await stack?.close();
});

describe("a batch in the panel", () => {
  let firstBatchUrl = "";

  test("a file with a bad row imports its valid rows; the rejected rows download, fixed they import", async () => {
    const header = "sourceServerId,sourceEmail,sourcePassword,destServerId,destEmail,destPassword,dryRun";
    const csv = [
      header,
      `${sourceId},anna@old.test,${PASSWORD},${destId},anna@new.test,${PASSWORD},false`,
      `${sourceId},ben@old.test,${PASSWORD},${destId},ben@new.test,${PASSWORD},`,
      // cleo's destination password is wrong too: she fails once imported (for "Rerun failed").
      `${sourceId},-cleo@old.test,${PASSWORD},${destId},cleo@new.test,wrong password,false`,
    ].join("\n");
    await page.getByRole("button", { name: "Import CSV" }).first().click();
    const dialog = page.getByRole("dialog", { name: "Import jobs from CSV" });
    await dialog.getByLabel("Batch tag (optional)").fill("project-a");
    await dialog
      .getByLabel("CSV file")
      .setInputFiles({ name: "project-a.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    const errors = dialog.locator('[data-import-preview="errors"]');
    await errors.waitFor();
    expect(await errors.textContent()).toContain(
      "import the 2 valid rows now: 1 real migration (it copies mail) and 1 dry run (it only connects and counts)",
    );
    expect(await dialog.locator("tr[data-problem-line]").getAttribute("data-problem-line")).toBe("4");
    expect(await dialog.locator("td[data-run]").allTextContents()).toEqual(["Real", "Dry run"]);
    await screenshot(page, "import-partial-preview");
    await dialog.getByRole("button", { name: "Import 2 valid rows" }).click();
    const partial = dialog.locator("[data-import-partial]");
    await partial.waitFor();
    expect(await partial.textContent()).toContain("2 jobs imported into batch “project-a”: 1 real migration");
    expect(await partial.textContent()).toContain("1 row was left out");

    const download = page.waitForEvent("download");
    await dialog.locator("[data-download-rejected]").click();
    const file = await download;
    expect(file.suggestedFilename()).toBe("project-a-rejected.csv");
    const rejected = await readFile((await file.path()) ?? "", "utf8");
    const lines = rejected.trim().split(/\r?\n/);
    expect(lines).toEqual([
      `${header},error`,
      `${sourceId},-cleo@old.test,${PASSWORD},${destId},cleo@new.test,wrong password,false,"sourceEmail: ""-cleo@old.test"" starts with ""-"", which no login may."`,
    ]);

    // Fixed in the downloaded file (its error column stays), it imports as a batch of its own.
    const fixed = rejected.replace(",-cleo@old.test,", ",cleo@old.test,");
    await dialog.getByLabel("Batch tag (optional)").fill("project-a-fixes");
    await dialog
      .getByLabel("CSV file")
      .setInputFiles({ name: "project-a-rejected.csv", mimeType: "text/csv", buffer: Buffer.from(fixed) });
    const ok = dialog.locator('[data-import-preview="ok"]');
    await ok.waitFor();
    expect(await ok.textContent()).toBe("1 row ready to import: 1 real migration (it copies mail).");
    await dialog.getByRole("button", { name: "Import 1 job" }).click();
    await page.waitForURL(/\/jobs\?batch=\d+/);
    const rows = await stack.ctx.db
      .selectFrom("jobs")
      .select(["source_email", "dry_run"])
      .orderBy("id")
      .execute();
    expect(rows).toEqual([
      { source_email: "anna@old.test", dry_run: false },
      { source_email: "ben@old.test", dry_run: true },
      { source_email: "cleo@old.test", dry_run: false },
    ]);
    const first = await stack.ctx.db
      .selectFrom("batches")
      .select("id")
      .where("tag", "=", "project-a")
      .executeTakeFirstOrThrow();
    firstBatchUrl = `${stack.url}/jobs?batch=${first.id}`;
  });

  test('"Rerun failed" states its count, and the new run replaces the failure in the batch', async () => {
    // On the fixes batch: cleo fails (wrong destination password).
    await until(
      () => text("[data-batch-summary]"),
      (t) => t.includes("Rerun failed (1)"),
      "cleo's failure",
    );
    const failedJob = Number(await page.locator("tr[data-job-id]").first().getAttribute("data-job-id"));
    await page.locator("[data-batch-rerun-failed]").click();
    const confirm = page.getByRole("dialog", { name: "Rerun 1 mailbox?" });
    await confirm.waitFor();
    expect(await confirm.textContent()).toContain(
      "The latest run of 1 mailbox failed, was incomplete or was interrupted",
    );
    await screenshot(page, "batch-rerun-failed-confirm");
    await confirm.getByRole("button", { name: "Rerun 1 mailbox" }).click();
    await until(
      async () =>
        page
          .locator("tr[data-job-id]")
          .evaluateAll((rows) => rows.map((r) => Number(r.getAttribute("data-job-id")))),
      (ids) => ids.length === 1 && ids[0] !== failedJob,
      "the rerun to replace the failure in the batch's list",
    );
    const rerunId = Number(await page.locator("tr[data-job-id]").first().getAttribute("data-job-id"));
    await page.goto(`${stack.url}/jobs/${rerunId}`);
    const previous = page.locator("[data-previous-runs]");
    await previous.waitFor();
    expect(await previous.locator("[data-previous-run]").count()).toBe(1);
    await previous.getByRole("link", { name: `#${failedJob}` }).click();
    await page.waitForURL(new RegExp(`/jobs/${failedJob}$`));
    expect(await text("[data-superseded-by]")).toBe(`superseded by #${rerunId}`);
  });

  test('"Run real" on a batch with dry runs states its count and reruns them for real', async () => {
    await page.goto(firstBatchUrl);
    await until(
      () => text("[data-batch-summary]"),
      (t) => t.includes("Run real (1)"),
      "ben's dry run to end",
    );
    await page.locator("[data-batch-run-real]").click();
    const confirm = page.getByRole("dialog", { name: "Run a real migration of 1 mailbox?" });
    await confirm.waitFor();
    await confirm.getByRole("button", { name: "Run 1 mailbox for real" }).click();
    await until(
      () => page.locator("tr[data-job-id] .tag-dry").count(),
      (n) => n === 0,
      "no dry run left in the batch's list",
    );
    expect(await page.locator("tr[data-job-id]").count()).toBe(2);
  });

  test("the jobs list says why a job failed and where it goes, sorts by a column header, and finds jobs by server name", async () => {
    await page.goto(`${stack.url}/jobs`);
    const cleo = page.locator("tr[data-job-id]", { hasText: "cleo@old.test" });
    await until(
      () => cleo.locator("[data-job-error]").count(),
      (n) => n === 1,
      "cleo's failure sentence in the list",
    );
    expect(await cleo.locator("[data-job-error]").textContent()).toMatch(
      /^The destination server rejected the password/,
    );
    expect(await cleo.locator("[data-job-route]").textContent()).toContain(
      "cleo@old.test (Old provider) → cleo@new.test (New provider)",
    );

    await page.locator('button[data-sort="status"]').click();
    await page.waitForURL(/sort=-status/);
    await until(
      () => page.locator("tr[data-job-id]").first().getAttribute("data-status"),
      (status) => status === "failed",
      "the failed job first",
    );
    await page.locator('button[data-sort="name"]').click();
    await page.waitForURL(/sort=name/);
    await until(
      async () => (await page.locator("tr[data-job-id] .cell-main a").allTextContents()).join(" | "),
      (names) => names.startsWith("anna@old.test"),
      "names from A",
    );
    expect(await page.locator('th[aria-sort="ascending"]').textContent()).toContain("Job");

    await page.getByPlaceholder("Search name or login…").fill("new provider");
    await until(
      () => page.locator("tr[data-job-id]").count(),
      (n) => n === 3,
      "every job through the New provider",
    );
    await screenshot(page, "jobs-list-sorted-searched");
    await page.goto(`${stack.url}/jobs`);
  });

  test("a plan of delta passes: a too-frequent interval is refused with a sentence; pause, resume and a confirmed cutover end with the outcome", async () => {
    await page.goto(firstBatchUrl);
    const card = page.locator("[data-batch-plan]");
    await card.locator("[data-plan-create]").click();
    const form = page.getByRole("dialog", { name: "Plan delta passes for project-a" });
    await form.getByLabel("Run a pass every").fill("30");
    await form.getByLabel("Unit").selectOption("minutes");
    await form.getByRole("button", { name: "Start delta passes" }).click();
    const refused = form.locator(".form-error");
    await refused.waitFor();
    expect(await refused.textContent()).toBe(
      "Delta passes can run at most every hour (the planMinIntervalSeconds setting); every 30 minutes is too often.",
    );
    expect(await stack.ctx.db.selectFrom("batch_plans").selectAll().execute()).toEqual([]);

    await form.getByLabel("Unit").selectOption("hours");
    await form.getByLabel("Run a pass every").fill("6");
    await form.getByRole("button", { name: "Start delta passes" }).click();
    await until(
      () => text("[data-batch-plan]"),
      (t) =>
        t.includes("Delta passes on") && t.includes("every 6 hours") && t.includes("Next pass in 6 hours"),
      "the active plan",
    );
    await screenshot(page, "batch-plan-active");

    await card.locator("[data-plan-pause]").click();
    await until(
      () => text("[data-plan-phase]"),
      (t) => t === "Paused",
      "the paused plan",
    );
    await card.locator("[data-plan-resume]").click();
    await until(
      () => text("[data-plan-phase]"),
      (t) => t === "Delta passes on",
      "the resumed plan",
    );

    await card.locator("[data-plan-cutover]").click();
    const confirm = page.getByRole("dialog", { name: "Cut over project-a?" });
    await confirm.waitFor();
    expect(await confirm.textContent()).toContain("Switch the MX records first");
    await confirm.getByRole("button", { name: "Cut over now" }).click();
    await until(
      () => text("[data-batch-plan]"),
      (t) => t.includes("2 mailboxes complete, 0 need attention"),
      "the cutover's outcome",
    );
    expect(await text("[data-plan-phase]")).toBe("Cut over");
    const plan = await stack.ctx.db.selectFrom("batch_plans").selectAll().executeTakeFirstOrThrow();
    expect(plan).toMatchObject({
      phase: "ended",
      interval_seconds: 21_600,
      complete_count: 2,
      attention_count: 0,
    });
    await screenshot(page, "batch-plan-cut-over");
  });
  test("an import that checks every login first marks the row whose password is wrong, before anything is written", async () => {
    await page.goto(`${stack.url}/jobs`);
    const jobsBefore = await stack.ctx.db.selectFrom("jobs").select("id").orderBy("id").execute();
    const header = "sourceServerId,sourceEmail,sourcePassword,destServerId,destEmail,destPassword,dryRun";
    const csv = [
      header,
      `${sourceId},anna@old.test,${PASSWORD},${destId},anna@new.test,${PASSWORD},false`,
      `${sourceId},ben@old.test,not bens password,${destId},ben@new.test,${PASSWORD},false`,
    ].join("\n");
    await page.getByRole("button", { name: "Import CSV" }).first().click();
    const dialog = page.getByRole("dialog", { name: "Import jobs from CSV" });
    await dialog.getByText("Check every login first").click();
    await dialog
      .getByLabel("CSV file")
      .setInputFiles({ name: "verify.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    const problem = dialog.locator('tr[data-problem-line="3"]');
    await problem.waitFor();
    expect(await problem.textContent()).toContain("sourcePassword");
    expect(await problem.textContent()).toContain("rejected the login for ben@old.test");
    expect(await dialog.textContent()).not.toContain("not bens password");
    await screenshot(page, "import-verify-logins");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect(await stack.ctx.db.selectFrom("jobs").select("id").orderBy("id").execute()).toEqual(jobsBefore);
  });
  test("default engine options set in the settings reach a new job, whose page says where each option came from", async () => {
    await page.goto(`${stack.url}/settings`);
    const card = page.locator("[data-default-engine-options]");
    await card.locator('input[name="options.maxAgeDays"]').fill("365");
    await card.locator('input[name="options.maxAgeDays"]').blur();
    await page.getByRole("button", { name: "Save settings" }).click();
    await until(
      async () =>
        (
          await stack.ctx.db
            .selectFrom("settings")
            .select("value")
            .where("key", "=", "defaultEngineOptions")
            .executeTakeFirst()
        )?.value,
      (value) => JSON.stringify(value) === JSON.stringify({ maxAgeDays: 365 }),
      "the stored default options",
    );
    try {
      const job = await createJob(stack.ctx, {
        sourceServerId: sourceId,
        sourceEmail: "anna@old.test",
        sourcePassword: PASSWORD,
        destServerId: destId,
        destEmail: "anna@new.test",
        destPassword: PASSWORD,
        options: { errorsMax: 5 },
      });
      await page.goto(`${stack.url}/jobs/${job.id}`);
      const fromSettings = page.locator('[data-option="maxAgeDays"]');
      await fromSettings.waitFor();
      expect(await fromSettings.getAttribute("data-origin")).toBe("settings");
      expect((await fromSettings.textContent())?.replace(/\s+/g, " ").trim()).toBe(
        "maxAgeDays: 365 · settings",
      );
      expect(await page.locator('[data-option="errorsMax"]').getAttribute("data-origin")).toBe("job");
      expect(await page.locator('[data-option="addHeader"]').getAttribute("data-origin")).toBe("default");
    } finally {
      await updateSettings(stack.ctx, { defaultEngineOptions: {} });
    }
  });

  test("a single job's page plans its delta passes, which then run in a batch of its own", async () => {
    const job = await createJob(stack.ctx, {
      sourceServerId: sourceId,
      sourceEmail: "cleo@old.test",
      sourcePassword: PASSWORD,
      destServerId: destId,
      destEmail: "cleo@new.test",
      destPassword: PASSWORD,
      dryRun: false,
    });
    await page.goto(`${stack.url}/jobs/${job.id}`);
    await page.locator("[data-job-plan] [data-plan-create]").click();
    const form = page.getByRole("dialog", { name: `Plan delta passes for job ${job.id}` });
    expect(await form.textContent()).toContain("Each pass runs this mailbox again");
    await form.getByLabel("Run a pass every").fill("6");
    await form.getByLabel("Unit").selectOption("hours");
    await form.getByRole("button", { name: "Start delta passes" }).click();
    await until(
      () => text("[data-batch-plan]"),
      (t) => t.includes("Delta passes on") && t.includes("every 6 hours"),
      "the job's active plan",
    );
    const own = await stack.ctx.db
      .selectFrom("batch_plans")
      .innerJoin("batches", "batches.id", "batch_plans.batch_id")
      .select(["batches.tag", "batch_plans.phase", "batch_plans.interval_seconds"])
      .where("batches.tag", "=", `job-${job.id}`)
      .executeTakeFirstOrThrow();
    expect(own).toEqual({ tag: `job-${job.id}`, phase: "active", interval_seconds: 21_600 });
    await screenshot(page, "job-plan-active");
  });
});
