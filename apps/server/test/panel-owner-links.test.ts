import { createJob, createServer } from "@imapferry/core";
import type { SmtpTestServer } from "@imapferry/testkit";
import { readMailbox, seedMailbox, startSmtpServer } from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page, PanelStack } from "./panel-harness.ts";
import {
  expectNoConsoleErrors,
  screenshot,
  screenshotOnFailure,
  signInAsAdmin,
  startPanelStack,
  until,
} from "./panel-harness.ts";

// The mailbox owner's side of a credential link, in Chromium on a phone: the operator copies a link
// from the job's page, the owner opens it, gets a wrong password explained, enters the right one, and
// the migration runs; the link is then spent, and an expired one is refused.

const LOGIN = "dora@old.example";
const OWNER_PASSWORD = "Dora's-0ld-Pass!";
const DEST_PASSWORD = "dora-new-7731";
const OWNER_EMAIL = "dora.owner@customer.example";
const PHONE = { width: 390, height: 844 };

function message(i: number): string {
  return [
    `From: Friend ${i} <friend${i}@example.org>`,
    `To: ${LOGIN}`,
    `Subject: Owner link message ${i}`,
    `Message-ID: <owner-link-${i}@example.org>`,
    "Date: Mon, 02 Nov 2026 10:00:00 +0000",
    "",
    `Body ${i}.`,
    "",
  ].join("\r\n");
}

describe("a mailbox owner enters the old password through a link, on a phone", () => {
  let stack: PanelStack;
  let smtp: SmtpTestServer;
  let jobId: number;
  let sourceServerId: number;
  let destServerId: number;
  let linkUrl: string;
  let page: Page | undefined;
  screenshotOnFailure(() => page);

  /** The page as the owner sees it: width no wider than the phone, nothing cut off. */
  async function expectFitsPhone(owner: Page): Promise<void> {
    expect(await owner.locator("html").evaluate((el) => el.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
  }

  beforeAll(async () => {
    smtp = await startSmtpServer();
    stack = await startPanelStack({ smtpPort: smtp.port });
    await stack.imap.source.addUser(LOGIN, OWNER_PASSWORD);
    await stack.imap.destination.addUser(LOGIN, DEST_PASSWORD);
    await seedMailbox(stack.imap.source, LOGIN, OWNER_PASSWORD, {
      folders: [
        { path: "INBOX", messages: Array.from({ length: 12 }, (_, i) => ({ source: message(i) })) },
        { path: "Archive", messages: [{ source: message(100) }] },
      ],
    });
    sourceServerId = (
      await createServer(stack.ctx, {
        name: "Old Mail Co",
        host: "127.0.0.1",
        port: stack.imap.source.port,
        security: "none",
      })
    ).id;
    destServerId = (
      await createServer(stack.ctx, {
        name: "New Mail Co",
        host: "127.0.0.1",
        port: stack.imap.destination.port,
        security: "none",
      })
    ).id;
    jobId = (
      await createJob(
        stack.ctx,
        {
          name: "Dora's mailbox",
          sourceServerId,
          sourceEmail: LOGIN,
          destServerId,
          destEmail: LOGIN,
          destPassword: DEST_PASSWORD,
          dryRun: false,
          askOwner: { email: OWNER_EMAIL },
        },
        { publicUrl: stack.url, emailEnabled: true },
      )
    ).id;
  }, 300_000);

  afterAll(async () => {
    await stack?.close();
    await smtp?.close();
  });

  it("shows the operator the awaiting job and its link, and copies a new link", async () => {
    const [mail] = await smtp.waitForMessages(1);
    expect(mail!.to).toEqual([OWNER_EMAIL]);
    page = await stack.browser.newPage();
    await signInAsAdmin(page, stack);
    await page.getByRole("button", { name: "Awaiting credentials" }).click();
    await expect
      .poll(() => page!.locator("[data-owner-link-sentence]").first().textContent())
      .toBe(`Link sent to ${OWNER_EMAIL}`);
    await page.goto(`${stack.url}/jobs/${jobId}`);
    await expect.poll(() => page!.locator(".badge").first().textContent()).toBe("Awaiting credentials");
    const card = page.locator("[data-owner-link]");
    await expect.poll(() => card.locator("[data-owner-email]").textContent()).toBe(OWNER_EMAIL);
    await expect
      .poll(() => card.locator("[data-owner-link-state]").textContent())
      .toBe("Waiting for the owner");
    await card.getByRole("button", { name: "Copy link" }).click();
    const shown = card.locator("[data-owner-link-url]");
    await shown.waitFor();
    linkUrl = (await shown.textContent()) ?? "";
    expect(linkUrl).toMatch(new RegExp(`^${stack.url}/credentials/[A-Za-z0-9_-]{43}$`));
    // The emailed link was replaced by the copied one.
    const emailed = /(http:\/\/\S+\/credentials\/\S+)/.exec(mail!.text)?.[1] ?? "";
    const old = await stack.browser.newPage(PHONE);
    await old.goto(emailed);
    await expect.poll(() => old.locator("h1").textContent()).toBe("This link was replaced by a newer one");
    await screenshot(page, "owner-link-operator");
    expectNoConsoleErrors(stack);
  });

  it("refuses a wrong password with a sentence and keeps the link; the right one runs the migration", async () => {
    const owner = await stack.browser.newPage(PHONE);
    page = owner;
    await owner.goto(linkUrl);
    await expect.poll(() => owner.locator("h1").textContent()).toBe("Enter the password of your old mailbox");
    expect(await owner.locator("[data-login]").textContent()).toBe(LOGIN);
    expect(await owner.locator("[data-server]").textContent()).toBe("Old Mail Co");
    const body = (await owner.locator("body").textContent()) ?? "";
    expect(body).not.toContain("New Mail Co");
    expect(body).not.toContain("127.0.0.1");
    await expectFitsPhone(owner);
    await screenshot(owner, "owner-link-form");

    await owner.getByLabel(`Password for ${LOGIN}`).fill("wrong-password");
    await owner.getByRole("button", { name: "Check and save" }).click();
    const alert = owner.getByRole("alert");
    await expect
      .poll(() => alert.textContent())
      .toBe(`That password was not accepted for ${LOGIN}. Check it (capital letters count) and try again.`);
    expect(await owner.getByLabel(`Password for ${LOGIN}`).getAttribute("aria-invalid")).toBe("true");
    await expectFitsPhone(owner);
    await screenshot(owner, "owner-link-wrong-password");
    const still = await stack.ctx.db
      .selectFrom("jobs")
      .select(["status", "source_secret"])
      .where("id", "=", jobId)
      .executeTakeFirstOrThrow();
    expect(still).toEqual({ status: "awaiting_credentials", source_secret: null });

    await owner.getByLabel(`Password for ${LOGIN}`).fill(OWNER_PASSWORD);
    await owner.getByRole("button", { name: "Check and save" }).click();
    await expect.poll(() => owner.locator("h1").textContent()).toBe("Thank you");
    await screenshot(owner, "owner-link-accepted");

    const ended = await until(
      () =>
        stack.ctx.db
          .selectFrom("jobs")
          .select(["status", "error_message"])
          .where("id", "=", jobId)
          .executeTakeFirstOrThrow(),
      (job) => !["awaiting_credentials", "queued", "running"].includes(job.status),
      "the job to end",
    );
    expect(ended.status).toBe("done");
    // Every message is on the destination, in its folder, as on the source.
    const destination = await readMailbox(stack.imap.destination, LOGIN, DEST_PASSWORD);
    const source = await readMailbox(stack.imap.source, LOGIN, OWNER_PASSWORD);
    expect(destination.folders.reduce((n, f) => n + f.messages.length, 0)).toBe(13);
    expect(destination).toEqual(source);

    // The password is stored encrypted, never in clear.
    const stored = await stack.ctx.db
      .selectFrom("jobs")
      .select("source_secret")
      .where("id", "=", jobId)
      .executeTakeFirstOrThrow();
    expect(stored.source_secret).not.toContain(OWNER_PASSWORD);
    expect(stack.ctx.vault.decrypt(stored.source_secret!)).toBe(OWNER_PASSWORD);
    expectNoConsoleErrors(stack);
  }, 300_000);

  it("says a used link was already used", async () => {
    const owner = await stack.browser.newPage(PHONE);
    page = owner;
    await owner.goto(linkUrl);
    await expect.poll(() => owner.locator("h1").textContent()).toBe("This link has already been used");
    expect(await owner.locator("form").count()).toBe(0);
    await expectFitsPhone(owner);
    await screenshot(owner, "owner-link-used");
  });

  it("refuses an expired link", async () => {
    const job = await createJob(
      stack.ctx,
      {
        sourceServerId,
        sourceEmail: LOGIN,
        destServerId,
        destEmail: LOGIN,
        destPassword: DEST_PASSWORD,
        askOwner: { returnLink: true, expiresInHours: 1 },
      },
      { publicUrl: stack.url, emailEnabled: true },
    );
    await stack.ctx.db
      .updateTable("credential_requests")
      .set({ expires_at: new Date(Date.now() - 60_000) })
      .where("job_id", "=", job.id)
      .execute();
    const owner = await stack.browser.newPage(PHONE);
    page = owner;
    await owner.goto(job.credentialRequest!.url!);
    await expect.poll(() => owner.locator("h1").textContent()).toBe("This link has expired");
    expect(await owner.locator("form").count()).toBe(0);
    await screenshot(owner, "owner-link-expired");

    // The operator sees it as expired and can send a new one.
    const operator = await stack.browser.newPage();
    page = operator;
    await signInAsAdmin(operator, stack);
    await operator.goto(`${stack.url}/jobs/${job.id}`);
    const card = operator.locator("[data-owner-link]");
    await expect.poll(() => card.locator("[data-owner-link-state]").textContent()).toBe("Link expired");
    await card.getByRole("button", { name: "Send a new link" }).click();
    const dialog = operator.getByRole("dialog");
    await dialog.getByLabel("Owner's email").fill("not an address");
    await dialog.getByRole("button", { name: "Send" }).click();
    await expect
      .poll(() => dialog.locator(".error").first().textContent())
      .toMatch(/must be an email address/);
    const mailsBefore = smtp.messages.length;
    await dialog.getByLabel("Owner's email").fill(OWNER_EMAIL);
    await dialog.getByRole("button", { name: "Send" }).click();
    await expect
      .poll(() => card.locator("[data-owner-link-state]").textContent())
      .toBe("Waiting for the owner");
    const mails = await smtp.waitForMessages(mailsBefore + 1);
    expect(mails.at(-1)?.to).toEqual([OWNER_EMAIL]);
    expectNoConsoleErrors(stack);
  });

  it("lets the operator create a job that asks its owner, from the New job form", async () => {
    const operator = await stack.browser.newPage();
    page = operator;
    await signInAsAdmin(operator, stack);
    await operator.getByRole("button", { name: "New job" }).click();
    const dialog = operator.getByRole("dialog");
    await dialog.locator("select[name=sourceServerId]").selectOption({ label: "Old Mail Co (127.0.0.1)" });
    await dialog.locator("input[name=sourceEmail]").fill(LOGIN);
    await dialog.getByText("Ask the mailbox's owner").click();
    expect(await dialog.locator("input[name=sourcePassword]").count()).toBe(0);
    await dialog.getByLabel("Owner's email (optional)").fill("not-an-address");
    await dialog.locator("select[name=destServerId]").selectOption({ label: "New Mail Co (127.0.0.1)" });
    await dialog.locator("input[name=destEmail]").fill(LOGIN);
    await dialog.locator("input[name=destPassword]").fill(DEST_PASSWORD);
    await dialog.getByRole("button", { name: "Queue dry run" }).click();
    await expect
      .poll(() => dialog.locator(".field .error").first().textContent())
      .toMatch(/must be an email address/);
    const mailsBefore = smtp.messages.length;
    await dialog.getByLabel("Owner's email (optional)").fill(OWNER_EMAIL);
    await dialog.getByRole("button", { name: "Queue dry run" }).click();
    await operator.waitForURL(/\/jobs\/\d+$/);
    await expect.poll(() => operator.locator(".badge").first().textContent()).toBe("Awaiting credentials");
    await expect
      .poll(() => operator.locator("[data-owner-link] [data-owner-email]").textContent())
      .toBe(OWNER_EMAIL);
    const mails = await smtp.waitForMessages(mailsBefore + 1);
    expect(mails.at(-1)?.subject).toBe(`Action needed: your mailbox ${LOGIN} is being moved`);
    expectNoConsoleErrors(stack);
  });
});
