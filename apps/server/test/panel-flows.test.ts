import { readFile } from "node:fs/promises";
import { getSettings } from "@imapferry/core";
import { generateLargeMailbox } from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Page, PanelStack } from "./panel-harness.ts";
import {
  addServerInPanel,
  checkEachPanelTest,
  openDesktopPage,
  openNewJobDialog,
  screenshot,
  startPanelStack,
  until,
} from "./panel-harness.ts";

/**
 * The panel, driven in Debian's Chromium against the whole product in this process: real PostgreSQL,
 * two real Dovecots, the built-in engine and an in-process worker. Steps build on each other, in
 * order, as an operator's first afternoon would.
 */

const PASSWORD = "correct horse";
/** Slow enough (messages per second) for a person, and the test, to watch a migration move. */
const THROTTLE = 25;

let stack: PanelStack;
let page: Page;
/** A finished real migration, shown on the job detail screenshots. */
let showcaseJobId = 0;

async function statusOnDetail(): Promise<string> {
  return ((await page.locator(".page-head .badge").first().getAttribute("data-status")) ?? "").trim();
}

async function waitForDetailStatus(statuses: string[]): Promise<string> {
  return until(statusOnDetail, (s) => statuses.includes(s), `job status ${statuses.join("/")}`);
}

/** The innermost elements reaching past the viewport's right edge, named for the failure message. */
async function widestElements(width: number): Promise<string> {
  return page.locator("body").evaluate((body, limit) => {
    const past = [...body.querySelectorAll("*")].filter(
      (el) => el.getBoundingClientRect().right > limit + 0.5,
    );
    const innermost = past.filter((el) => !past.some((other) => other !== el && el.contains(other)));
    return innermost
      .slice(0, 5)
      .map((el) => {
        const classes =
          typeof el.className === "string" && el.className ? `.${el.className.split(" ").join(".")}` : "";
        return `${el.tagName.toLowerCase()}${classes} (${Math.round(el.getBoundingClientRect().right)} px)`;
      })
      .join(", ");
  }, width);
}

async function logText(): Promise<string> {
  return (await page.locator("[role=log] .log-content").textContent()) ?? "";
}

function currentJobId(): number {
  const match = /\/jobs\/(\d+)/.exec(page.url());
  if (!match) throw new Error(`Not on a job page: ${page.url()}`);
  return Number(match[1]);
}

/**
 * What has keyboard focus, as a person would name it: a field's `name`, else its aria-label, else its
 * text; "(nothing)" when focus is on no element.
 */
async function focusedControl(): Promise<string> {
  const focused = page.locator(":focus");
  if ((await focused.count()) !== 1) return "(nothing)";
  return (
    (await focused.getAttribute("name")) ??
    (await focused.getAttribute("aria-label")) ??
    ((await focused.textContent()) ?? "").trim()
  );
}

interface JobFormValues {
  source: string;
  sourcePassword: string;
  dest: string;
  destPassword: string;
  name: string;
  dryRun: boolean;
  throttle?: number;
}

async function createJob(values: JobFormValues): Promise<number> {
  const { dialog, source, destination } = await openNewJobDialog(page, stack);
  await source.getByLabel("Server").selectOption({ label: `Old provider (127.0.0.1)` });
  await source.getByLabel("Login", { exact: true }).fill(values.source);
  await source.getByLabel("Password").fill(values.sourcePassword);
  await destination.getByLabel("Server").selectOption({ label: `New provider (127.0.0.1)` });
  await destination.getByLabel("Login", { exact: true }).fill(values.dest);
  await destination.getByLabel("Password").fill(values.destPassword);
  await dialog.getByLabel("Job name (optional)").fill(values.name);
  const dry = dialog.getByLabel("Dry run");
  expect(await dry.isChecked()).toBe(true);
  if (!values.dryRun) await dry.uncheck();
  if (values.throttle) {
    await dialog.getByText("Advanced engine options").click();
    await dialog.getByLabel("Max messages per second").fill(String(values.throttle));
    await dialog.getByLabel("Max messages per second").blur();
  }
  await dialog.getByRole("button", { name: values.dryRun ? "Queue dry run" : "Queue migration" }).click();
  await page.waitForURL(/\/jobs\/\d+$/);
  return currentJobId();
}

async function addMailbox(user: string, messages: number, seed: number): Promise<void> {
  await stack.imap.source.addUser(`${user}@old.test`, PASSWORD);
  await stack.imap.destination.addUser(`${user}@new.test`, PASSWORD);
  await stack.imap.source.seedMaildir(
    `${user}@old.test`,
    generateLargeMailbox({ messages, folders: 3, seed, averageSize: 3000 }),
  );
}

beforeAll(async () => {
  stack = await startPanelStack();
  await addMailbox("alice", 240, 1);
  await addMailbox("bob", 20, 2);
  await addMailbox("carol", 20, 3);
  await addMailbox("dave", 20, 4);
  await addMailbox("erin", 400, 5);
  await addMailbox("frank", 30, 6);
  await addMailbox("grace", 300, 7);
  page = await openDesktopPage(stack);
  // Steps wait on throttled real migrations, longer than openDesktopPage's two minutes.
  page.setDefaultTimeout(300_000);
});

checkEachPanelTest(() => ({ stack, page }));

afterAll(async () => {
  await stack?.close();
});

// Each step waits on real migrations (throttled so they can be watched): no per-step time limit.
describe("the panel", { timeout: 0 }, () => {
  test("a visitor is sent to the login page, which hints at the console password, and logs in", async () => {
    await page.goto(`${stack.url}/jobs`);
    await page.waitForURL(/\/login/);
    await expect.poll(() => page.getByText("printed on the server console").isVisible()).toBe(true);
    await screenshot(page, "login");
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, "login");
    expect(await page.locator("html").evaluate((el) => el.scrollWidth)).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill("wrong password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "Wrong user name or password" }).waitFor();

    // The keyboard way: type the password and press Enter.
    await page.getByLabel("Password").fill(stack.adminPassword);
    await page.getByLabel("Password").press("Enter");
    await page.waitForURL(/\/jobs$/);
    await page.getByText("No migrations yet").waitFor();
    await screenshot(page, "jobs-empty");
  });

  test("adds the two servers and tests them: success, then a categorised failure", async () => {
    await page.getByRole("link", { name: "Servers" }).click();
    await page.getByText("No servers yet").waitFor();
    await addServerInPanel(page, { name: "Old provider", port: stack.imap.source.tlsPort, security: "tls" });
    await addServerInPanel(page, {
      name: "New provider",
      port: stack.imap.destination.port,
      security: "starttls",
    });

    for (const name of ["Old provider", "New provider"]) {
      await page
        .locator(`tr[data-server="${name}"]`)
        .getByRole("button", { name: "Test connection" })
        .click();
      const dialog = page.getByRole("dialog", { name: `Test ${name}` });
      await dialog.getByRole("button", { name: "Test connection" }).click();
      await dialog.locator('[data-test-result="ok"]').waitFor();
      await dialog.getByRole("button", { name: "Close" }).first().click();
    }

    // With an account, the test logs in too: a wrong password is reported as such.
    await page
      .locator('tr[data-server="Old provider"]')
      .getByRole("button", { name: "Test connection" })
      .click();
    const dialog = page.getByRole("dialog", { name: "Test Old provider" });
    await dialog.getByLabel("Login (optional)").fill("alice@old.test");
    await dialog.getByLabel("Password (optional)").fill("not the password");
    await dialog.getByRole("button", { name: "Test connection" }).click();
    const failure = dialog.locator('[data-test-result="failed"]');
    await failure.waitFor();
    expect(await failure.getAttribute("data-category")).toBe("auth");
    expect(await failure.textContent()).toContain("Login rejected");
    await screenshot(page, "server-test");
    await dialog.getByRole("button", { name: "Close" }).first().click();
    await screenshot(page, "servers");
  });

  test("the New job dialog works from the keyboard alone: focus stays inside and Escape gives it back", async () => {
    await page.goto(`${stack.url}/jobs`);
    await page.getByText("No migrations yet").waitFor();
    // Tab from the top of the page to the first New job button.
    const passed: string[] = [];
    while (passed.at(-1) !== "New job") {
      if (passed.length > 40) throw new Error(`Tab never reached New job; it passed ${passed.join(", ")}`);
      await page.keyboard.press("Tab");
      passed.push(await focusedControl());
    }
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "New migration job" });
    await dialog.waitFor();
    // Focus starts on the first field, inside the dialog.
    expect(await focusedControl()).toBe("sourceServerId");
    expect(await dialog.locator(":focus").count()).toBe(1);

    // Type-ahead picks the source server; Tab moves on to the login and the password.
    await page.keyboard.type("Old");
    await expect
      .poll(() =>
        dialog
          .getByRole("group", { name: "Source" })
          .getByLabel("Server")
          .locator("option:checked")
          .textContent(),
      )
      .toBe("Old provider (127.0.0.1)");
    await page.keyboard.press("Tab");
    expect(await focusedControl()).toBe("sourceEmail");
    await page.keyboard.type("alice@old.test");
    expect(
      await dialog.getByRole("group", { name: "Source" }).getByLabel("Login", { exact: true }).inputValue(),
    ).toBe("alice@old.test");

    // Tab on through every control: focus never leaves the dialog and wraps back to its first control.
    const visited: string[] = [];
    for (let step = 0; step < 30; step++) {
      await page.keyboard.press("Tab");
      expect(await dialog.locator(":focus").count()).toBe(1);
      const name = await focusedControl();
      visited.push(name);
      if (name === "sourceServerId") break;
    }
    expect(visited).toEqual([
      "sourcePassword",
      "askOwner",
      "destServerId",
      "destEmail",
      "destPassword",
      "name",
      "dryRun",
      "Advanced engine options",
      "Cancel",
      "Queue dry run",
      "Close",
      "sourceServerId",
    ]);

    // Shift+Tab from the first control wraps to the last one: the submit button.
    await page.keyboard.press("Shift+Tab");
    expect(await focusedControl()).toBe("Close");
    await page.keyboard.press("Shift+Tab");
    expect(await focusedControl()).toBe("Queue dry run");
    expect(await dialog.locator(":focus").count()).toBe(1);

    // Space turns the dry run off, and the submit button says so; Space again turns it back on.
    for (let step = 0; step < 3; step++) await page.keyboard.press("Shift+Tab");
    expect(await focusedControl()).toBe("dryRun");
    await page.keyboard.press("Space");
    await dialog.getByRole("button", { name: "Queue migration" }).waitFor();
    expect(await dialog.getByLabel("Dry run").isChecked()).toBe(false);
    await page.keyboard.press("Space");
    await dialog.getByRole("button", { name: "Queue dry run" }).waitFor();

    // Enter on the summary opens the advanced options, whose fields join the tab order.
    await page.keyboard.press("Tab");
    expect(await focusedControl()).toBe("Advanced engine options");
    await page.keyboard.press("Enter");
    await dialog.getByLabel("Max messages per second").waitFor({ state: "visible" });
    await page.keyboard.press("Tab");
    expect(await dialog.locator(":focus").count()).toBe(1);
    expect(await focusedControl()).not.toBe("Cancel");

    // Escape closes the dialog without creating anything and hands focus back to New job.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    expect(await focusedControl()).toBe("New job");
    await page.getByText("No migrations yet").waitFor();
  });

  test("a new job is a dry run by default and finishes with its statistics", async () => {
    await createJob({
      source: "alice@old.test",
      sourcePassword: PASSWORD,
      dest: "alice@new.test",
      destPassword: PASSWORD,
      name: "Alice",
      dryRun: true,
      throttle: THROTTLE,
    });
    await page.locator(".page-head .tag-dry").waitFor();
    await waitForDetailStatus(["done"]);
    await expect.poll(() => page.locator('[data-stat="transferred"]').textContent()).not.toBe("—");
    await screenshot(page, "job-detail-dry-run");
  });

  test("Run real: the live log grows and the progress bar moves while it runs", async () => {
    const dryRunId = currentJobId();
    await page.getByRole("button", { name: "Run real" }).click();
    await page.waitForURL(
      (url) => /\/jobs\/\d+$/.test(url.pathname) && !url.pathname.endsWith(`/${dryRunId}`),
    );
    await waitForDetailStatus(["running"]);

    const progressOf = async () =>
      Number((await page.locator("[role=progressbar]").first().getAttribute("aria-valuenow")) ?? "0");
    const firstProgress = await until(progressOf, (n) => n > 0, "progress above zero");
    // The bar's number is also written out for the eye: "copied / total", and an ETA while it runs.
    const shownProgress = async () => ({
      now: await progressOf(),
      count: ((await page.locator("[data-progress-count]").first().textContent()) ?? "").trim(),
    });
    await until(shownProgress, (p) => p.count === `${p.now} / 240`, "the written progress to match the bar");
    await until(
      async () => (await page.locator(".progress-meta").first().textContent()) ?? "",
      (text) => /ETA \d+(h|m|s)/.test(text),
      "an ETA next to the bar",
    );
    const firstLog = (await logText()).length;
    await until(progressOf, (n) => n > firstProgress + 10, "the progress bar to move");
    await until(
      async () => (await logText()).length,
      (n) => n > firstLog,
      "the log to grow",
    );
    await screenshot(page, "job-detail-running");

    await waitForDetailStatus(["done"]);
    await expect.poll(() => page.locator('[data-stat="transferred"]').textContent()).toBe("240");
  });

  test("Download log gives the whole log as a file", async () => {
    const jobId = currentJobId();
    const downloading = page.waitForEvent("download");
    await page.getByRole("link", { name: "Download log" }).click();
    const download = await downloading;
    const text = await readFile((await download.path()) ?? "", "utf8");
    expect(text.length).toBeGreaterThan(100);
    const chunks = await stack.ctx.db
      .selectFrom("job_logs")
      .select("chunk")
      .where("job_id", "=", jobId)
      .orderBy("byte_offset")
      .execute();
    const stored = chunks.map((c) => c.chunk).join("");
    expect(text).toBe(stored);
    // By default the view leaves out the engine's host and advice lines, and nothing else; with
    // "Show all lines" it shows exactly the stored log.
    const shownByDefault = await until(
      logText,
      (shown) => shown.length > 0 && text.endsWith(shown.slice(-200)),
      "the log view to reach the end of the download",
    );
    const hiddenLines = text.split("\n").filter((line) => !shownByDefault.split("\n").includes(line));
    expect(hiddenLines.some((line) => line.startsWith("[imapferry]"))).toBe(false);
    await page.getByRole("button", { name: "Show all lines" }).click();
    await until(logText, (shown) => shown === text, "the whole log view to match the download");
    await page.getByRole("button", { name: "Hide engine notes" }).click();
  });

  test("a CSV with a bad row shows the problem; fixed, it imports as a batch of dry runs", async () => {
    const servers = await stack.ctx.db.selectFrom("servers").select(["id", "name"]).execute();
    const sourceId = servers.find((s) => s.name === "Old provider")?.id;
    const destId = servers.find((s) => s.name === "New provider")?.id;
    const header = "sourceServerId,sourceEmail,sourcePassword,destServerId,destEmail,destPassword,name";
    const row = (user: string, destEmail = `${user}@new.test`) =>
      `${sourceId},${user}@old.test,${PASSWORD},${destId},${destEmail},${PASSWORD},${user}`;
    // A login that starts with "-" would read as an option to the engine: refused at input.
    const bad = [header, row("bob"), row("carol", "-carol@new.test"), row("dave")].join("\n");
    const good = [header, row("bob"), row("carol"), row("dave")].join("\n");

    await page.goto(`${stack.url}/jobs`);
    await page.getByRole("button", { name: "Import CSV" }).first().click();
    const dialog = page.getByRole("dialog", { name: "Import jobs from CSV" });
    const templateDownload = page.waitForEvent("download");
    await dialog.getByRole("link", { name: "Template" }).first().click();
    const template = await readFile((await (await templateDownload).path()) ?? "", "utf8");
    expect(template.split(/\r?\n/)[0]).toContain("sourceEmail");
    await dialog.getByLabel("Batch tag (optional)").fill("wave-1");
    await dialog
      .getByLabel("CSV file")
      .setInputFiles({ name: "wave-1.csv", mimeType: "text/csv", buffer: Buffer.from(bad) });
    await dialog.locator('[data-import-preview="errors"]').waitFor();
    const problem = dialog.locator("tr[data-problem-line]");
    expect(await problem.count()).toBe(1);
    expect(await problem.getAttribute("data-problem-line")).toBe("3");
    expect(await problem.textContent()).toContain("destEmail");
    // The two valid rows may go in alone; the bad one is left to fix.
    expect(await dialog.getByRole("button", { name: "Import 2 valid rows" }).isEnabled()).toBe(true);
    await screenshot(page, "import-errors");

    await dialog
      .getByLabel("CSV file")
      .setInputFiles({ name: "wave-1.csv", mimeType: "text/csv", buffer: Buffer.from(good) });
    await dialog.locator('[data-import-preview="ok"]').waitFor();
    await dialog.getByRole("button", { name: "Import 3 jobs" }).click();
    const importError = dialog.locator(".callout-error");
    await Promise.race([
      page.waitForURL(/\/jobs\?batch=\d+/),
      importError.waitFor().then(async () => {
        throw new Error(`The import failed: ${await importError.textContent()}`);
      }),
    ]);
    await until(
      () => page.locator("tr[data-job-id]").count(),
      (n) => n === 3,
      "the batch's three jobs",
    );
    await until(
      () => page.locator('tr[data-job-id][data-status="done"]').count(),
      (n) => n === 3,
      "three finished dry runs",
    );
    expect(await page.locator("tr[data-job-id] .tag-dry").count()).toBe(3);
    await screenshot(page, "jobs-batch");
  });

  test("bulk Run real on the whole batch queues a real run of each job", async () => {
    await page.getByRole("checkbox", { name: "Select all jobs on this page" }).check();
    const bar = page.getByRole("region", { name: "Bulk actions" });
    await bar.getByText("3 selected").waitFor();
    await screenshot(page, "jobs-bulk-selection");
    await bar.getByRole("button", { name: "Run real" }).click();
    // A real copy of three mailboxes asks first, and says so.
    const confirm = page.getByRole("dialog", { name: "Run a real migration of 3 mailboxes?" });
    expect(await confirm.textContent()).toContain("mail is copied to the destination of 3 mailboxes");
    await confirm.getByRole("button", { name: "Run real" }).click();
    await page.getByText("3 jobs queued for a real run").waitFor();
    // The reruns belong to the same batch and replace the dry runs there: the filtered list updates
    // live to the three real runs (the dry runs stay under each job's "Previous runs").
    await until(
      () => page.locator("tr[data-job-id] .tag-dry").count(),
      (n) => n === 0,
      "the dry runs replaced by the real runs",
    );
    expect(await page.locator("tr[data-job-id]").count()).toBe(3);
    await until(
      () => page.locator('tr[data-job-id][data-status="done"]').count(),
      (n) => n === 3,
      "the real runs to finish",
    );
  });

  test("cancelling a running job stops it", async () => {
    await createJob({
      source: "erin@old.test",
      sourcePassword: PASSWORD,
      dest: "erin@new.test",
      destPassword: PASSWORD,
      name: "Erin",
      dryRun: false,
      throttle: 10,
    });
    await waitForDetailStatus(["running"]);
    await until(
      async () => (await logText()).length,
      (n) => n > 0,
      "some log",
    );
    // The job list shows the running job's progress as a bar, as "copied / total" and as an ETA.
    const erinId = currentJobId();
    await page.goto(`${stack.url}/jobs`);
    const row = page.locator(`tr[data-job-id="${erinId}"]`);
    const listed = async () => ({
      now: (await row.locator("[role=progressbar]").getAttribute("aria-valuenow")) ?? "",
      count: ((await row.locator("[data-progress-count]").textContent()) ?? "").trim(),
      meta: (await row.locator(".progress-meta").textContent()) ?? "",
    });
    const shown = await until(
      listed,
      (p) => Number(p.now) > 0 && p.count === `${p.now} / 400` && /ETA \d+(h|m|s)/.test(p.meta),
      "the list's progress: bar, count and ETA",
    );
    expect(shown.meta).toMatch(/^\d+ \/ 400ETA \d+(h|m|s)/);
    await screenshot(page, "jobs-running");
    await page.goto(`${stack.url}/jobs/${erinId}`);
    await waitForDetailStatus(["running"]);
    expect(await page.getByRole("button", { name: "Edit" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Cancel", exact: true }).click();
    // Stopping a running migration asks first, saying what happens to what was copied.
    const confirm = page.getByRole("dialog", { name: "Stop this migration?" });
    expect(await confirm.textContent()).toContain("What it already copied stays on the destination");
    await confirm.getByRole("button", { name: "Stop migration" }).click();
    await waitForDetailStatus(["cancelled"]);
    await screenshot(page, "job-detail-cancelled");
  });

  test("a job that failed on a wrong password is edited (only the password) and rerun to success", async () => {
    await createJob({
      source: "frank@old.test",
      sourcePassword: "a wrong password",
      dest: "frank@new.test",
      destPassword: PASSWORD,
      name: "Frank",
      dryRun: false,
    });
    await waitForDetailStatus(["failed"]);
    const sentence = page.locator("[data-error-sentence]");
    await sentence.waitFor();
    expect((await sentence.textContent())?.toLowerCase()).toMatch(/password|log ?in|auth/);
    await screenshot(page, "job-detail-failed");

    await page.getByRole("button", { name: "Edit" }).click();
    const dialog = page.getByRole("dialog", { name: /^Edit/ });
    const sourcePassword = dialog.getByRole("group", { name: "Source" }).getByLabel("Password");
    expect(await sourcePassword.getAttribute("placeholder")).toBe("(unchanged)");
    expect(await sourcePassword.inputValue()).toBe("");
    await sourcePassword.fill(PASSWORD);
    await screenshot(page, "job-edit");
    await dialog.getByRole("button", { name: "Save job" }).click();
    await dialog.waitFor({ state: "detached" });

    const failedId = currentJobId();
    await page.getByRole("button", { name: "Rerun" }).click();
    await page.waitForURL(
      (url) => /\/jobs\/\d+$/.test(url.pathname) && !url.pathname.endsWith(`/${failedId}`),
    );
    await waitForDetailStatus(["done"]);
    await expect.poll(() => page.locator('[data-stat="transferred"]').textContent()).toBe("30");
  });

  test("reloading mid-migration resumes the live log without a gap or a repeat", async () => {
    await createJob({
      source: "grace@old.test",
      sourcePassword: PASSWORD,
      dest: "grace@new.test",
      destPassword: PASSWORD,
      name: "Grace",
      dryRun: false,
      throttle: THROTTLE,
    });
    await waitForDetailStatus(["running"]);
    await until(
      async () => (await logText()).length,
      (n) => n > 200,
      "some log before the reload",
    );
    await page.reload();
    await waitForDetailStatus(["running"]);
    await until(
      async () => (await logText()).length,
      (n) => n > 0,
      "the log after the reload",
    );

    // Scrolling up pauses following: the view stays where the reader is while the log grows. A log
    // that still fits its view cannot scroll: wait until there is something above to scroll to.
    const scroller = page.locator("[role=log]");
    await until(
      () => scroller.evaluate((el) => el.scrollHeight - el.clientHeight),
      (above) => above > 300,
      "the log to outgrow its view",
    );
    await scroller.hover();
    const follow = page.getByRole("button", { name: /^Follow/ });
    await until(
      async () => {
        await page.mouse.wheel(0, -5000);
        return follow.isVisible();
      },
      (visible) => visible,
      "the view to stop following after scrolling up",
    );
    const pausedAt = await scroller.evaluate((el) => el.scrollTop);
    const lengthWhenPaused = (await logText()).length;
    await until(
      async () => (await logText()).length,
      (n) => n > lengthWhenPaused + 500,
      "the log to grow while paused",
    );
    expect(await scroller.evaluate((el) => el.scrollTop)).toBe(pausedAt);
    await follow.click();
    await until(
      () => scroller.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight),
      (gap) => gap < 40,
      "the view to follow the end again",
    );
    await waitForDetailStatus(["done"]);
    showcaseJobId = currentJobId();
    const response = await page.request.get(`${stack.url}/api/jobs/${showcaseJobId}/log`);
    const stored = await response.text();
    // The view hides the engine's notes (host, PID …) until asked; with them it is the stored log.
    expect(stored).toContain("PID is ");
    expect(await logText()).not.toContain("PID is ");
    await page.getByRole("button", { name: "Show all lines" }).click();
    await until(logText, (shown) => shown === stored, "the log view to equal the stored log");
  });

  test("the job list filters by status and by free text, and keeps the filter in the address", async () => {
    await page.goto(`${stack.url}/jobs`);
    await page.locator("tr[data-job-id]").first().waitFor();
    await page
      .getByRole("group", { name: "Filter by status" })
      .getByRole("button", { name: "Failed" })
      .click();
    await page.waitForURL(/status=failed/);
    await until(
      async () =>
        page.locator("tr[data-job-id]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-status"))),
      (statuses) => statuses.length > 0 && statuses.every((s) => s === "failed"),
      "only failed jobs",
    );
    await page.getByRole("group", { name: "Filter by status" }).getByRole("button", { name: "All" }).click();
    await page.getByLabel("Search jobs").fill("grace");
    await page.waitForURL(/q=grace/);
    await until(
      async () => page.locator("tr[data-job-id] .cell-main").allTextContents(),
      (names) => names.length === 1 && names[0]?.includes("grace@old.test") === true,
      "only Grace's job",
    );
    await page.reload();
    expect(await page.getByLabel("Search jobs").inputValue()).toBe("grace");
  });

  test("a multi-megabyte log arrives whole and renders in a bounded number of blocks", async () => {
    const job = await stack.ctx.db
      .selectFrom("jobs")
      .select(["id", "log_bytes"])
      .where("status", "=", "cancelled")
      .executeTakeFirstOrThrow();
    // Six more megabytes of engine-like lines, stored as the log writer stores them (64 KiB chunks).
    const line = (n: number) =>
      `msg INBOX/${n} {2048}      copied to INBOX/${n}      25.00 msgs/s  50.000 KiB/s\n`;
    let offset = Number(job.log_bytes);
    let n = 0;
    let added = 0;
    while (added < 6 * 1024 * 1024) {
      let chunk = "";
      while (chunk.length < 64 * 1024) chunk += line(n++);
      await stack.ctx.db
        .insertInto("job_logs")
        .values({ job_id: job.id, byte_offset: String(offset), chunk })
        .execute();
      offset += Buffer.byteLength(chunk);
      added += chunk.length;
    }
    await stack.ctx.db
      .updateTable("jobs")
      .set({ log_bytes: String(offset) })
      .where("id", "=", job.id)
      .execute();

    await page.goto(`${stack.url}/jobs/${job.id}`);
    await page.getByRole("button", { name: "Show all lines" }).click();
    const shownBytes = () =>
      page
        .locator("[role=log] .log-content")
        .evaluate((el) => new TextEncoder().encode(el.textContent ?? "").length);
    await until(shownBytes, (bytes) => bytes === offset, `all ${offset} bytes of the log in the view`);
    const blocks = await page.locator("[role=log] pre.log-block").count();
    expect(blocks).toBeLessThanOrEqual(Math.ceil(offset / (32 * 1024)) + 2);
    // The end is in view, and the page still answers input.
    const gap = await page
      .locator("[role=log]")
      .evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    expect(gap).toBeLessThan(40);
    const lastLine = line(n - 1);
    expect(
      await page
        .locator("[role=log] .log-content")
        .evaluate((el, last) => el.textContent?.endsWith(last), lastLine),
    ).toBe(true);
  });

  test("deleting a job for good removes it and its log", async () => {
    const dryRun = await stack.ctx.db
      .selectFrom("jobs")
      .select("id")
      .where("name", "=", "Alice")
      .where("dry_run", "=", true)
      .executeTakeFirstOrThrow();
    await page.goto(`${stack.url}/jobs/${dryRun.id}`);
    await waitForDetailStatus(["done"]);
    await page.getByRole("button", { name: "Delete job" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete this job?" });
    await dialog.getByLabel("Delete for good").check();
    await dialog.getByRole("button", { name: "Delete for good" }).click();
    await page.waitForURL(/\/jobs$/);
    await page.getByText("Job deleted for good").waitFor();
    expect(await page.locator(`tr[data-job-id="${dryRun.id}"]`).count()).toBe(0);
    const left = await stack.ctx.db
      .selectFrom("job_logs")
      .select("id")
      .where("job_id", "=", dryRun.id)
      .execute();
    expect(left).toEqual([]);
  });

  test("the workers page shows each worker's host, pool, running and capacity, load, memory and heartbeat", async () => {
    await page.goto(`${stack.url}/workers`);
    const worker = await stack.ctx.db
      .selectFrom("workers")
      .selectAll()
      .where("stopped_at", "is", null)
      .executeTakeFirstOrThrow();
    const row = page.locator(`tr[data-worker-id="${worker.id}"]`);
    await row.waitFor();
    const cell = async (label: string) =>
      ((await row.locator(`td[data-label="${label}"]`).textContent()) ?? "").trim();
    const host = (await row.locator(".cell-main").textContent()) ?? "";
    expect(host).toContain(worker.hostname);
    expect(host).toContain(`pid ${worker.pid}`);
    expect(host).toContain(worker.id);
    expect(await cell("Pool")).toBe(worker.pool ?? "default");
    // Nothing runs now: every migration of the earlier steps has ended.
    expect(await cell("Running")).toBe(`0 / ${worker.capacity}`);
    expect(await cell("Load")).toMatch(/^\d+\.\d\d \d+\.\d\d \d+\.\d\d$/);
    expect(await cell("Memory")).toMatch(/^\d+(\.\d)? (KiB|MiB|GiB)$/);
    // Heartbeats come every second here, so the last one is always moments ago.
    expect(await cell("Heartbeat")).toMatch(/^(now|\d+ seconds? ago)$/);
    expect(await row.locator(".dot").getAttribute("title")).toBe("Alive");
  });

  test("every main page, at desktop and phone width", async () => {
    const jobId = showcaseJobId;
    // Pages that scroll sideways at phone width (nothing may: tables become cards there).
    const overflowing: string[] = [];
    // Pages whose phone top bar grew past its own content (a short page once stretched it to 265 px).
    const tallTopBars: string[] = [];
    async function shoot(name: string): Promise<void> {
      await screenshot(page, name);
      const width = page.viewportSize()?.width ?? 0;
      if ((await page.locator("html").evaluate((el) => el.scrollWidth)) > width)
        overflowing.push(`${name}@${width}: ${await widestElements(width)}`);
      if (width === 390) {
        const height = (await page.locator(".topbar").boundingBox())?.height ?? 0;
        if (height === 0 || height >= 80) tallTopBars.push(`${name}: ${height} px`);
      }
    }
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      await page.goto(`${stack.url}/jobs`);
      await page.locator("tr[data-job-id]").first().waitFor();
      await shoot("jobs");
      await page.goto(`${stack.url}/jobs/${jobId}`);
      await waitForDetailStatus(["done"]);
      await shoot("job-detail");
      await page.goto(`${stack.url}/servers`);
      await page.locator("tr[data-server]").first().waitFor();
      await shoot("servers");
      await page.goto(`${stack.url}/workers`);
      await page.locator("tr[data-worker-id]").first().waitFor();
      await shoot("workers");
      await page.goto(`${stack.url}/settings`);
      await page.getByLabel("Recipients").waitFor();
      await shoot("settings");
      await page.goto(`${stack.url}/jobs`);
      await page.getByRole("button", { name: "New job" }).first().click();
      await page
        .getByRole("dialog", { name: "New migration job" })
        .getByRole("group", { name: "Source" })
        .waitFor();
      await shoot("job-new");
      await page.keyboard.press("Escape");
      await page.getByRole("button", { name: "Import CSV" }).first().click();
      await page.getByRole("dialog", { name: "Import jobs from CSV" }).waitFor();
      await shoot("import");
      await page.keyboard.press("Escape");
      if (width === 390) {
        // On a phone the navigation sits behind a menu button; Escape closes it again.
        await page.getByRole("button", { name: "Open menu" }).click();
        await page.getByRole("link", { name: "Workers" }).waitFor({ state: "visible" });
        await shoot("menu");
        await page.keyboard.press("Escape");
        await expect.poll(() => page.locator(".shell").getAttribute("data-menu")).toBe("closed");
      }
    }
    expect(overflowing).toEqual([]);
    expect(tallTopBars).toEqual([]);
  });

  test("settings: recipients are validated with the server's schema and saved", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${stack.url}/settings`);
    const recipients = page.getByLabel("Recipients");
    await recipients.fill("ops@example.com\nnot-an-address");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByText("“not-an-address”").waitFor();
    await recipients.fill("ops@example.com\nteam@example.com");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByText("Settings saved").waitFor();
    await page.reload();
    await expect
      .poll(() => page.getByLabel("Recipients").inputValue())
      .toBe("ops@example.com\nteam@example.com");
  });

  test("settings: new default limits are saved and are still there after a reload", async () => {
    await page.goto(`${stack.url}/settings`);
    const perWorker = page.getByLabel("Migrations per worker");
    const perSource = page.getByLabel("Per source server");
    await expect.poll(() => perSource.inputValue()).not.toBe("");
    const before = { perWorker: await perWorker.inputValue(), perSource: await perSource.inputValue() };
    const wanted = {
      perWorker: before.perWorker === "6" ? "5" : "6",
      perSource: before.perSource === "3" ? "2" : "3",
    };
    await perWorker.fill(wanted.perWorker);
    await perSource.fill(wanted.perSource);
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByText("Settings saved").waitFor();
    await page.reload();
    await expect.poll(() => page.getByLabel("Per source server").inputValue()).toBe(wanted.perSource);
    expect(await page.getByLabel("Migrations per worker").inputValue()).toBe(wanted.perWorker);

    // Connections per account: 4 by default; out of range is a sentence that saves nothing.
    const connections = page.getByLabel("Connections per account");
    expect(await connections.inputValue()).toBe("4");
    await connections.fill("17");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByText("Connections per account is a whole number from 1 to 16.").waitFor();
    expect((await getSettings(stack.ctx)).connectionsPerAccount).toBe(4);
    await connections.fill("2");
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect.poll(async () => (await getSettings(stack.ctx)).connectionsPerAccount).toBe(2);
    await connections.fill("4");
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect.poll(async () => (await getSettings(stack.ctx)).connectionsPerAccount).toBe(4);
  });

  test("settings: the retry policy and the faults it retries are saved, and a wait out of range is a sentence that saves nothing", async () => {
    await page.goto(`${stack.url}/settings`);
    const retries = page.getByLabel("Automatic retries");
    const firstWait = page.getByLabel("First wait (seconds)");
    const longestWait = page.getByLabel("Longest wait (seconds)");
    await expect.poll(() => retries.inputValue()).toBe("5");
    expect(await firstWait.inputValue()).toBe("60");
    expect(await longestWait.inputValue()).toBe("3600");
    await firstWait.fill("0");
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect
      .poll(() =>
        page.getByText("The first wait is a whole number of seconds from 1 to 86400 (a day).").count(),
      )
      .toBe(1);
    expect((await getSettings(stack.ctx)).retryBaseSeconds).toBe(60);
    await retries.fill("3");
    await firstWait.fill("30");
    await longestWait.fill("900");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByText("Settings saved").first().waitFor();
    await page.reload();
    await expect.poll(() => page.getByLabel("Automatic retries").inputValue()).toBe("3");
    expect(await page.getByLabel("First wait (seconds)").inputValue()).toBe("30");
    expect(await page.getByLabel("Longest wait (seconds)").inputValue()).toBe("900");
    // Back to the defaults for the tests after this one.
    await page.getByLabel("Automatic retries").fill("5");
    await page.getByLabel("First wait (seconds)").fill("60");
    await page.getByLabel("Longest wait (seconds)").fill("3600");
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect.poll(async () => (await getSettings(stack.ctx)).retryMaxAttempts).toBe(5);

    // Which faults are retried: lost connections off, the others stay on.
    const lostConnections = page.getByLabel("Retry lost connections");
    expect(await lostConnections.isChecked()).toBe(true);
    await lostConnections.uncheck();
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect
      .poll(async () => (await getSettings(stack.ctx)).retryCategories)
      .toEqual(["throttled", "oauth2-token"]);
    await page.reload();
    await expect.poll(() => page.getByLabel("Retry throttled runs").isChecked()).toBe(true);
    expect(await page.getByLabel("Retry lost connections").isChecked()).toBe(false);
    await page.getByLabel("Retry lost connections").check();
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect
      .poll(async () => (await getSettings(stack.ctx)).retryCategories)
      .toEqual(["connection", "throttled", "oauth2-token"]);
  });

  test("settings: without SMTP the page says email is disabled and why", async () => {
    await page.goto(`${stack.url}/settings`);
    const badge = page.locator("[data-notifications]");
    await badge.waitFor();
    expect(((await badge.textContent()) ?? "").trim()).toBe("Email disabled");
    const notice = page.locator("[data-notification-status]");
    expect(await notice.textContent()).toContain("Email notifications are off: SMTP is not configured");
    expect(await notice.isVisible()).toBe(true);
  });

  test("an API token is shown once, works as a bearer token, and stops working when revoked", async () => {
    await page.getByLabel("Token name").fill("hosting panel");
    await page.getByLabel("Role").selectOption("read");
    await page.getByLabel("Tenant").fill("acme");
    await page.getByRole("button", { name: "Create token" }).click();
    const token = (await page.locator("[data-new-token]").textContent()) ?? "";
    expect(token).toMatch(/^imf_/);
    const asBearer = () =>
      page.request.get(`${stack.url}/trpc/auth.me`, {
        headers: { Authorization: `Bearer ${token}`, Cookie: "" },
      });
    const me = await asBearer();
    expect(me.status()).toBe(200);
    expect(await me.json()).toMatchObject({ result: { data: { role: "read", tenant: "acme" } } });
    const row = page.getByRole("table", { name: "API tokens" }).getByRole("row", { name: /hosting panel/ });
    expect(await row.getByRole("cell").allTextContents()).toEqual(expect.arrayContaining(["read", "acme"]));
    await page.getByRole("button", { name: "Done" }).click();
    expect(await page.locator("[data-new-token]").count()).toBe(0);
    await screenshot(page, "settings-tokens");

    await page.getByRole("table", { name: "API tokens" }).getByRole("button", { name: "Revoke" }).click();
    await page
      .getByRole("dialog", { name: "Revoke this token?" })
      .getByRole("button", { name: "Revoke" })
      .click();
    await page.getByText("No active token").waitFor();
    expect((await asBearer()).status()).toBe(401);
  });
  test("the job list pages through many jobs with Next and Previous, and bulk-deletes a page", async () => {
    const servers = await stack.ctx.db.selectFrom("servers").select("id").orderBy("id").execute();
    const [source, destination] = servers;
    if (!source || !destination) throw new Error("The servers step did not run.");
    // Thirty finished jobs, written straight to the table: only their listing matters here.
    await stack.ctx.db
      .insertInto("jobs")
      .values(
        Array.from({ length: 30 }, (_, i) => ({
          name: `Filler ${String(i + 1).padStart(2, "0")}`,
          source_server_id: source.id,
          source_email: `filler${i}@old.test`,
          source_secret: stack.ctx.vault.encrypt("unused"),
          dest_server_id: destination.id,
          dest_email: `filler${i}@new.test`,
          dest_secret: stack.ctx.vault.encrypt("unused"),
          dry_run: true,
          status: "done" as const,
          finished_at: new Date(),
        })),
      )
      .execute();
    await page.goto(`${stack.url}/jobs?q=Filler`);
    await until(
      () => page.locator("tr[data-job-id]").count(),
      (n) => n === 25,
      "a first page of 25",
    );
    const firstPage = await page.locator("tr[data-job-id] .cell-main a").allTextContents();
    await page.getByRole("button", { name: "Next" }).click();
    await until(
      () => page.locator("tr[data-job-id]").count(),
      (n) => n === 5,
      "a second page of 5",
    );
    expect(await page.getByRole("button", { name: "Next" }).isDisabled()).toBe(true);
    const secondPage = await page.locator("tr[data-job-id] .cell-main a").allTextContents();
    expect(new Set([...firstPage, ...secondPage]).size).toBe(30);
    await page.getByRole("button", { name: "Previous" }).click();
    await until(
      () => page.locator("tr[data-job-id] .cell-main a").allTextContents(),
      (names) => names.join() === firstPage.join(),
      "the first page again",
    );

    // Bulk delete of a whole page: the list refills with what is left.
    await page.getByRole("checkbox", { name: "Select all jobs on this page" }).check();
    const bar = page.getByRole("region", { name: "Bulk actions" });
    await bar.getByText("25 selected").waitFor();
    await bar.getByRole("button", { name: "Delete" }).click();
    await page
      .getByRole("dialog", { name: "Delete 25 jobs?" })
      .getByRole("button", { name: "Delete" })
      .click();
    await page.getByText("25 jobs deleted").waitFor();
    await until(
      () => page.locator("tr[data-job-id]").count(),
      (n) => n === 5,
      "the five jobs left",
    );
  });
});
