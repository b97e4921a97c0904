import { createApiToken, createServer } from "@imapferry/core";
import { createClient } from "@imapferry/sdk";
import { describe, expect, test } from "vitest";
import type { Page, PanelStack } from "./panel-harness.ts";
import { screenshot, signInAsAdmin, until, usePanelStack } from "./panel-harness.ts";
import { firstAdminId } from "./support/admin-client.ts";

/** The audit log page in Debian's Chromium: a token's refused change and a person's change, filtered. */

let stack: PanelStack;
let page: Page;

usePanelStack((started, opened) => {
  stack = started;
  page = opened;
});

describe("the audit log page", { timeout: 0 }, () => {
  test("shows who changed what and how it ended, and filters by action", async () => {
    const server = await createServer(stack.ctx, { name: "Audited", host: "imap.invalid" });
    const { token, apiToken } = await createApiToken(stack.ctx, await firstAdminId(stack), {
      name: "acme panel",
      role: "operate",
      tenant: "acme",
    });
    const refused = await createClient({ url: stack.url, token })
      .servers.delete.mutate({ id: server.id })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);

    await signInAsAdmin(page, stack);
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
