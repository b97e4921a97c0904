import { createJob, createServer, updateSettings } from "@imapferry/core";
import { generateLargeMailbox, readMailbox } from "@imapferry/testkit";
import { describe, expect, test } from "vitest";
import type { Page, PanelStack } from "./panel-harness.ts";
import { screenshot, signInAsAdmin, until, usePanelStack } from "./panel-harness.ts";

/**
 * Provider budgets in Debian's Chromium: the server form fills in Gmail's published limits and names a
 * bad budget; a job whose source account has a 1 MB budget per (short) window waits between windows,
 * its page shows the account's usage against the budget and when it resets, and it ends done.
 */

let stack: PanelStack;
let page: Page;

usePanelStack((started, opened) => {
  stack = started;
  page = opened;
});

describe("provider budgets in the panel", { timeout: 0 }, () => {
  test("the server form fills in a provider's limits and names a bad budget", async () => {
    await signInAsAdmin(page, stack);
    await page.getByRole("link", { name: "Servers" }).click();
    await page.waitForURL(/\/servers$/);
    await page.getByRole("button", { name: "Add server" }).first().click();
    const dialog = page.getByRole("dialog", { name: "Add server" });
    await dialog.getByLabel("Name").fill("Budgeted source");
    await dialog.getByLabel("Fill in a provider's limits").selectOption("gmail");
    expect(await dialog.getByLabel("Host").inputValue()).toBe("imap.gmail.com");
    expect(await dialog.getByLabel("Daily download budget (MB)").inputValue()).toBe("2500");
    expect(await dialog.getByLabel("Daily upload budget (MB)").inputValue()).toBe("500");
    expect(await dialog.getByLabel("Connections per account").inputValue()).toBe("15");

    await dialog.getByLabel("Host").fill("127.0.0.1");
    await dialog.getByLabel("Security").selectOption("none");
    await dialog.getByLabel("Port").fill(String(stack.imap.source.port));
    await dialog.getByLabel("Daily download budget (MB)").fill("0");
    await dialog.getByRole("button", { name: "Add server" }).click();
    await dialog
      .getByText(
        "The daily download budget must be at least 1 MB (1,000,000 bytes, a whole number), or empty for no limit.",
      )
      .waitFor();
    expect(await stack.ctx.db.selectFrom("servers").select("id").execute()).toEqual([]);

    await dialog.getByLabel("Daily download budget (MB)").fill("1");
    await dialog.getByLabel("Daily upload budget (MB)").fill("");
    await dialog.getByLabel("Connections per account").fill("1");
    await dialog.getByRole("button", { name: "Add server" }).click();
    await dialog.waitFor({ state: "detached" });
    await page.locator('tr[data-server="Budgeted source"]').waitFor();
    const stored = await stack.ctx.db
      .selectFrom("servers")
      .select(["daily_download_bytes", "daily_upload_bytes", "max_connections"])
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ daily_download_bytes: "1000000", daily_upload_bytes: null, max_connections: 1 });
  });

  test("a job over its source's budget waits between windows, shows the usage, and ends done", async () => {
    await updateSettings(stack.ctx, { budgetWindowSeconds: 5 });
    const source = await stack.ctx.db
      .selectFrom("servers")
      .select("id")
      .where("name", "=", "Budgeted source")
      .executeTakeFirstOrThrow();
    const destination = await createServer(stack.ctx, {
      name: "Plain destination",
      host: "127.0.0.1",
      port: stack.imap.destination.port,
      security: "none",
    });
    const user = await stack.imap.source.addUser("budget@old.example", "Budget-src-pw1");
    const dest = await stack.imap.destination.addUser("budget@new.example", "Budget-dst-pw1");
    const mailbox = generateLargeMailbox({
      messages: 40,
      folders: 2,
      seed: 7,
      averageSize: 65_000,
      maxSize: 200_000,
    });
    await stack.imap.source.seedMaildir(user.user, mailbox);
    expect(mailbox.totalBytes).toBeGreaterThan(2_000_000);
    const job = await createJob(stack.ctx, {
      sourceServerId: source.id,
      sourceEmail: user.user,
      sourcePassword: user.password,
      destServerId: destination.id,
      destEmail: dest.user,
      destPassword: dest.password,
      dryRun: false,
    });

    await page.goto(`${stack.url}/jobs/${job.id}`);
    const card = page.locator("[data-budget-usage]");
    await page.getByText("Waiting to resume by itself").waitFor();
    await page
      .locator("[data-error-sentence]")
      .getByText(/reached its download budget of 1 MB per window\. The migration resumes by itself at /)
      .waitFor();
    await card
      .locator('[data-budget-account="source"]')
      .getByText(/^[\d.]+ MB of 1 MB used$/)
      .waitFor();
    const used = await card.locator("[data-budget-used]").textContent();
    expect(Number(/^([\d.]+) MB/.exec(used ?? "")?.[1])).toBeGreaterThan(0);
    expect(await card.textContent()).toContain(`${user.user} on Budgeted source`);
    await card
      .locator("[data-budget-resets]")
      .getByText(/^Resets /)
      .waitFor();
    await screenshot(page, "job-budget-waiting");

    await until(
      () =>
        stack.ctx.db.selectFrom("jobs").select("status").where("id", "=", job.id).executeTakeFirstOrThrow(),
      (r) => ["done", "failed", "incomplete"].includes(r.status),
      "the job to end",
    );
    await page.locator('.page-head .badge[data-status="done"]').waitFor();
    const row = await stack.ctx.db
      .selectFrom("jobs")
      .select(["status", "auto_retries", "attempt"])
      .where("id", "=", job.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe("done");
    expect(row.auto_retries).toBe(0);
    expect(row.attempt).toBeGreaterThanOrEqual(3);
    const messages = async (server: typeof stack.imap.source, login: { user: string; password: string }) =>
      (await readMailbox(server, login.user, login.password)).folders
        .flatMap((f) => f.messages.map((m) => `${f.path}:${m.sha256}`))
        .sort();
    expect(await messages(stack.imap.destination, dest)).toEqual(await messages(stack.imap.source, user));
  });
});
