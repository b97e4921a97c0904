import type { OAuth2TokenServer, ServiceAccountKeyJson } from "@imapferry/testkit";
import { readMailbox, seedMailbox, standardMailboxSpec, startOAuth2TokenServer } from "@imapferry/testkit";
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
 * A Google service account on a server, entered in the panel, in Debian's Chromium against the whole
 * product and a test OAuth2 token server: the key is write-only, and a job needs only the login.
 */

let tokens: OAuth2TokenServer;
let key: ServiceAccountKeyJson;
let stack: PanelStack;
let page: Page;

usePanelStack(
  (started, opened) => {
    stack = started;
    page = opened;
  },
  {
    async start() {
      tokens = await startOAuth2TokenServer();
      key = tokens.addServiceAccount();
      return startPanelStack({ oauth2IntrospectionUrl: tokens.introspectionUrl });
    },
    async prepare({ imap }) {
      await imap.source.addUser("carol@example.com", "src-carol-pw");
      await imap.destination.addUser("carol@example.com", "dst-carol-pw");
      await seedMailbox(imap.source, "carol@example.com", "src-carol-pw", standardMailboxSpec());
    },
    async stop() {
      await tokens?.stop();
    },
  },
);

/**
 * Finishes the New job form with the destination side of `name@example.com` (password dst-<name>-pw),
 * queues a real migration, and expects it done with the destination equal to the source.
 */
async function queueRealMigrationAndExpectCopied(dialog: ReturnType<Page["getByRole"]>, name: string) {
  const login = `${name}@example.com`;
  const destination = dialog.getByRole("group", { name: "Destination" });
  await destination.getByLabel("Server").selectOption({ label: "New provider (127.0.0.1)" });
  await destination.getByLabel("Login", { exact: true }).fill(login);
  await destination.getByLabel("Password").fill(`dst-${name}-pw`);
  await dialog.getByLabel("Dry run").uncheck();
  await dialog.getByRole("button", { name: "Queue migration" }).click();
  await page.waitForURL(/\/jobs\/\d+$/);
  const status = () => page.locator(".page-head .badge").first().getAttribute("data-status");
  await expect.poll(status, { timeout: 120_000 }).toMatch(/^(done|failed|incomplete)$/);
  expect(await status()).toBe("done");
  expect(await readMailbox(stack.imap.destination, login, `dst-${name}-pw`)).toEqual(
    await readMailbox(stack.imap.source, login, `src-${name}-pw`),
  );
}

describe("the panel with a Google service account", { timeout: 0 }, () => {
  test("adds the server with its key, which is never shown again, and migrates a mailbox by its login only", async () => {
    await signInAsAdmin(page, stack);

    await page.goto(`${stack.url}/servers`);
    await addServerInPanel(
      page,
      { name: "Workspace", port: stack.imap.source.tlsPort },
      async function fillServiceAccount(dialog) {
        const admin = dialog.getByRole("group", { name: "Admin credentials" });
        await admin.getByLabel("Mode").selectOption("google-service-account");
        // Not a key: the form says which field, and adds nothing.
        await admin.getByLabel("Service account key (JSON)").fill("{ not json");
        await admin.getByLabel("Token endpoint (optional)").fill(tokens.tokenUrl);
        await dialog.getByRole("button", { name: "Add server" }).click();
        await admin.getByText("The service account key is not JSON.", { exact: false }).waitFor();
        await admin.getByLabel("Service account key (JSON)").fill(JSON.stringify(key));
        await screenshot(page, "server-google-service-account");
      },
    );
    await addServerInPanel(page, { name: "New provider", port: stack.imap.destination.tlsPort });

    await page.locator('tr[data-server="Workspace"]').getByRole("button", { name: "Edit" }).click();
    const edit = page.getByRole("dialog", { name: "Edit Workspace" });
    const admin = edit.getByRole("group", { name: "Admin credentials" });
    expect(await admin.getByLabel("Mode").inputValue()).toBe("google-service-account");
    expect(await admin.getByLabel("Service account key (JSON)").inputValue()).toBe("");
    expect(await page.content()).not.toContain(key.private_key_id);
    await edit.getByRole("button", { name: "Cancel" }).click();

    const { dialog, source } = await openNewJobDialog(page, stack);
    await source.getByLabel("Server").selectOption({ label: "Workspace (127.0.0.1)" });
    await source.getByLabel("Login", { exact: true }).fill("carol@example.com");
    await queueRealMigrationAndExpectCopied(dialog, "carol");
    expect(tokens.issued.some((t) => t.login === "carol@example.com" && t.grant === "jwt-bearer")).toBe(true);
  });

  test("connects a mailbox with Connect with Google in a sign-in window, and migrates it without its password", async () => {
    const secret = "Panel-Connect-Secret-9!";
    tokens.addClient({
      clientId: "panel-connect",
      clientSecret: secret,
      redirectUri: `${stack.url}/oauth2/callback`,
    });
    await stack.imap.source.addUser("erin@example.com", "src-erin-pw");
    await stack.imap.destination.addUser("erin@example.com", "dst-erin-pw");
    await seedMailbox(stack.imap.source, "erin@example.com", "src-erin-pw", standardMailboxSpec());

    await page.goto(`${stack.url}/servers`);
    await addServerInPanel(
      page,
      { name: "Gmail", port: stack.imap.source.tlsPort },
      async function fillConnectClient(form) {
        const client = form.getByRole("group", { name: "Connect with Google / Microsoft" });
        await client.getByLabel("OAuth client").selectOption("google");
        await client.getByLabel("Client id").fill("panel-connect");
        await client.getByLabel("Client secret (web clients)").fill(secret);
        await client.getByLabel("Authorization endpoint (optional)").fill(tokens.authorizeUrl);
        await client.getByLabel("Token endpoint (optional)").fill(tokens.tokenUrl);
      },
    );

    const { dialog, source } = await openNewJobDialog(page, stack);
    await source.getByLabel("Server").selectOption({ label: "Gmail (127.0.0.1)" });
    const popupOpened = page.waitForEvent("popup");
    await source.getByRole("button", { name: "Connect with Google" }).click();
    const popup = await popupOpened;
    await popup.getByLabel("Account").fill("erin@example.com");
    await popup.getByRole("button", { name: "Allow" }).click();
    await popup
      .getByText("Connected as erin@example.com.")
      .waitFor()
      .catch(() => {
        // The page closes itself once it has told the panel; seeing it is not the point.
      });
    await source.getByText("Connected with Google as erin@example.com").waitFor();
    expect(await source.getByLabel("Login", { exact: true }).inputValue()).toBe("erin@example.com");
    expect(await source.getByLabel("Password").count()).toBe(0);
    await screenshot(page, "job-form-connected-google");

    await queueRealMigrationAndExpectCopied(dialog, "erin");

    await page.goto(`${stack.url}/servers`);
    await page.locator('tr[data-server="Gmail"]').getByRole("button", { name: "Edit" }).click();
    const edit = page.getByRole("dialog", { name: "Edit Gmail" });
    const stored = edit.getByRole("group", { name: "Connect with Google / Microsoft" });
    expect(await stored.getByLabel("Client id").inputValue()).toBe("panel-connect");
    expect(await stored.getByLabel("Client secret (web clients)").getAttribute("placeholder")).toBe(
      "(unchanged)",
    );
    expect(await page.content()).not.toContain(secret);
    await edit.getByRole("button", { name: "Cancel" }).click();
  });
});
