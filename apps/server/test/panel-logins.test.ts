import { readMailbox, seedMailbox, standardMailboxSpec } from "@imapferry/testkit";
import { describe, expect, test } from "vitest";
import type { Page, PanelStack } from "./panel-harness.ts";
import {
  addServerInPanel,
  openNewJobDialog,
  screenshot,
  signInAsAdmin,
  startPanelStack,
  usePanelStack,
} from "./panel-harness.ts";

/**
 * Plain logins and a server's admin credentials in the panel, in Debian's Chromium against the whole
 * product: the New job dialog takes the login `bob` (no "@") and, on a server whose admin logs in for
 * its mailboxes, no password.
 */

const ADMIN = { login: "master", password: "Panel-master-pw-5" };

let stack: PanelStack;
let page: Page;

usePanelStack(
  (started, opened) => {
    stack = started;
    page = opened;
  },
  {
    start: () => startPanelStack({ masterUsers: true }),
    async prepare({ imap }) {
      await imap.destination.addMasterUser(ADMIN.login, ADMIN.password);
      await imap.source.addUser("bob", "src-bob-pw");
      await imap.destination.addUser("bob", "dst-bob-pw");
      await seedMailbox(imap.source, "bob", "src-bob-pw", standardMailboxSpec());
    },
  },
);

describe("the panel with plain logins and admin credentials", { timeout: 0 }, () => {
  test("adds a server with admin credentials, whose password is never shown again", async () => {
    await signInAsAdmin(page, stack);

    await page.goto(`${stack.url}/servers`);
    await addServerInPanel(page, { name: "Old provider", port: stack.imap.source.tlsPort });
    await addServerInPanel(
      page,
      { name: "New provider", port: stack.imap.destination.tlsPort },
      async function fillAdminCredentials(dialog) {
        const admin = dialog.getByRole("group", { name: "Admin credentials" });
        await admin.getByLabel("Mode").selectOption("sasl-authzid");
        // Without the password the form says so, and adds nothing.
        await admin.getByLabel("Admin user").fill(ADMIN.login);
        await dialog.getByRole("button", { name: "Add server" }).click();
        await admin.getByText("Enter the password.").waitFor();
        await admin.getByLabel("Admin password").fill(ADMIN.password);
        await screenshot(page, "server-admin-credentials");
      },
    );

    await page.locator('tr[data-server="New provider"]').getByRole("button", { name: "Edit" }).click();
    const edit = page.getByRole("dialog", { name: "Edit New provider" });
    const admin = edit.getByRole("group", { name: "Admin credentials" });
    expect(await admin.getByLabel("Mode").inputValue()).toBe("sasl-authzid");
    expect(await admin.getByLabel("Admin user").inputValue()).toBe(ADMIN.login);
    expect(await admin.getByLabel("Admin password").inputValue()).toBe("");
    expect(await page.content()).not.toContain(ADMIN.password);
    await edit.getByRole("button", { name: "Cancel" }).click();
  });

  test("creates a job for the login bob, with no destination password, and sees it done", async () => {
    const { dialog, source, destination } = await openNewJobDialog(page, stack);
    await source.getByLabel("Server").selectOption({ label: "Old provider (127.0.0.1)" });
    await source.getByLabel("Login", { exact: true }).fill("bob");
    await destination.getByLabel("Server").selectOption({ label: "New provider (127.0.0.1)" });
    await destination.getByLabel("Login", { exact: true }).fill("bob");
    await dialog.getByLabel("Dry run").uncheck();
    // The source server has no admin credentials: its password is asked for before anything is sent.
    await dialog.getByRole("button", { name: "Queue migration" }).click();
    await source
      .getByText("The source server has no admin credentials, so the source password is required.")
      .waitFor();
    await source.getByLabel("Password").fill("src-bob-pw");
    expect(await destination.getByLabel("Password").getAttribute("placeholder")).toBe("(admin credentials)");
    await screenshot(page, "job-form-plain-login");
    await dialog.getByRole("button", { name: "Queue migration" }).click();
    await page.waitForURL(/\/jobs\/\d+$/);

    const status = () => page.locator(".page-head .badge").first().getAttribute("data-status");
    await expect.poll(status, { timeout: 120_000 }).toMatch(/^(done|failed|incomplete)$/);
    expect(await status()).toBe("done");
    expect(await readMailbox(stack.imap.destination, "bob", "dst-bob-pw")).toEqual(
      await readMailbox(stack.imap.source, "bob", "src-bob-pw"),
    );
  });
});
