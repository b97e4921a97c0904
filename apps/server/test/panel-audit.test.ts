import { createApiToken, createServer } from "@imapferry/core";
import { createClient } from "@imapferry/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import type { Page, PanelStack } from "./panel-harness.ts";
import {
  expectNoConsoleErrors,
  screenshot,
  screenshotOnFailure,
  startPanelStack,
  until,
} from "./panel-harness.ts";

/** The audit log page in Debian's Chromium: a token's refused change and a person's change, filtered. */

let stack: PanelStack;
let page: Page;

beforeAll(async () => {
  stack = await startPanelStack();
  page = await stack.browser.newPage({ width: 1280, height: 900 });
  page.setDefaultTimeout(120_000);
  await page.emulateMedia({ reducedMotion: "reduce" });
});

screenshotOnFailure(() => page);

afterEach(() => {
  expectNoConsoleErrors(stack);
});

afterAll(async () => {
  await stack?.close();
});

describe("the audit log page", { timeout: 0 }, () => {
  test("shows who changed what and how it ended, and filters by action", async () => {
    const admin = await stack.ctx.db.selectFrom("users").select("id").executeTakeFirstOrThrow();
    const server = await createServer(stack.ctx, { name: "Audited", host: "imap.invalid" });
    const { token, apiToken } = await createApiToken(stack.ctx, admin.id, {
      name: "acme panel",
      role: "operate",
      tenant: "acme",
    });
    const refused = await createClient({ url: stack.url, token })
      .servers.delete.mutate({ id: server.id })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);

    await page.goto(`${stack.url}/login`);
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill(stack.adminPassword);
    await page.getByLabel("Password").press("Enter");
    await page.waitForURL(/\/jobs$/);
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.waitForURL(/\/audit$/);
    const table = page.getByRole("table", { name: "Audit log" });
    const row = table.getByRole("row", { name: /servers\.delete/ });
    await row.waitFor();
    const cells = await row.getByRole("cell").allTextContents();
    expect(cells.join(" | ")).toMatch(
      /admin.*token imf_.*tenant acme.*servers\.delete.*server \d+.*FORBIDDEN/,
    );
    expect(cells.join(" ")).toContain(apiToken.prefix);
    await table
      .getByRole("row", { name: /auth\.login/ })
      .first()
      .waitFor();
    await screenshot(page, "audit-log");

    await page.getByLabel("Action").fill("servers.");
    await page.getByRole("button", { name: "Filter" }).click();
    // The header row and the one servers change: the login is filtered out.
    await until(
      () => table.getByRole("row").count(),
      (n) => n === 2,
      "the filtered audit log",
    );
    expect(await table.getByRole("row", { name: /servers\.delete/ }).count()).toBe(1);
  });
});
