import { createJob, createServer } from "@imapferry/core";
import { readMailbox, seedMailbox } from "@imapferry/testkit";
import { describe, expect, test } from "vitest";
import type { Page, PanelStack } from "./panel-harness.ts";
import { screenshot, signInAsAdmin, startPanelStack, until, usePanelStack } from "./panel-harness.ts";
import { signatureMatches, startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver.ts";

/** The Webhooks page in Debian's Chromium: an endpoint created there hears of a real migration's end. */

const PASSWORD = "panel-Hook-pw-55";

let stack: PanelStack;
let page: Page;
let receiver: WebhookReceiver;

usePanelStack(
  (started, opened) => {
    stack = started;
    page = opened;
  },
  {
    async start() {
      const [started, listening] = await Promise.all([startPanelStack(), startWebhookReceiver()]);
      receiver = listening;
      return started;
    },
    async stop() {
      await receiver?.close();
    },
  },
);

/** The text of the attempts of a delivery row, e.g. ["500 …", "200 …"]. */
async function attemptsOf(deliveryRow: ReturnType<Page["locator"]>): Promise<string[]> {
  return (await deliveryRow.locator("[data-attempt]").allTextContents()).map((t) =>
    t.replace(/\s+/g, " ").trim(),
  );
}

describe("the webhooks page", { timeout: 0 }, () => {
  test("creates an endpoint, shows its secret once, and its delivery log shows a job's end, a retry and a redelivery", async () => {
    await signInAsAdmin(page, stack);
    await page.getByRole("link", { name: "Webhooks" }).first().click();
    await page.waitForURL(/\/webhooks$/);
    await page.getByText("No endpoint yet").waitFor();

    // A URL that cannot receive webhooks is refused under its field, and nothing is created.
    const form = page.getByRole("form", { name: "New webhook endpoint" });
    await form.getByLabel("URL").fill("ftp://files.example.com/drop");
    await form.getByRole("button", { name: "Create endpoint" }).click();
    await form.getByText("Only http:// and https:// URLs can receive webhooks.").waitFor();
    expect(await stack.ctx.db.selectFrom("webhook_endpoints").select("id").execute()).toEqual([]);

    // The receiver fails the first delivery: the log then shows the failed attempt and the retry.
    receiver.answerNext("/panel-hook", 500);
    await form.getByLabel("URL").fill(receiver.url("/panel-hook"));
    await form.getByLabel("Description").fill("billing panel");
    await form.getByLabel("Batch ended").uncheck();
    await form.getByRole("button", { name: "Create endpoint" }).click();
    const secret = (await page.locator("[data-new-secret]").textContent())?.trim() ?? "";
    expect(secret).toMatch(/^whsec_/);
    const row = page.getByRole("table", { name: "Webhook endpoints" }).locator("tr[data-webhook-id]");
    await row.filter({ hasText: "billing panel" }).waitFor();
    expect((await row.locator("td").nth(1).textContent())?.trim()).toBe("job.ended");
    await screenshot(page, "webhooks-created");
    // Shown once: after Done, the secret is nowhere on the page, and the list never had it.
    await page.getByRole("button", { name: "Done" }).click();
    expect(await page.content()).not.toContain(secret);

    // A real migration through the built-in engine, Dovecot to Dovecot.
    await stack.imap.source.addUser("hana@old.test", PASSWORD);
    await stack.imap.destination.addUser("hana@new.test", PASSWORD);
    await seedMailbox(stack.imap.source, "hana@old.test", PASSWORD, {
      folders: [
        {
          path: "INBOX",
          messages: [
            {
              source: "From: a@example.org\r\nSubject: hello\r\nMessage-ID: <wh-1@example.org>\r\n\r\nhi\r\n",
            },
          ],
        },
      ],
    });
    const sourceId = (
      await createServer(stack.ctx, {
        name: "old",
        host: "127.0.0.1",
        port: stack.imap.source.port,
        security: "none",
      })
    ).id;
    const destId = (
      await createServer(stack.ctx, {
        name: "new",
        host: "127.0.0.1",
        port: stack.imap.destination.port,
        security: "none",
      })
    ).id;
    const job = await createJob(stack.ctx, {
      sourceServerId: sourceId,
      sourceEmail: "hana@old.test",
      sourcePassword: PASSWORD,
      destServerId: destId,
      destEmail: "hana@new.test",
      destPassword: PASSWORD,
      dryRun: false,
    });

    await row.filter({ hasText: "billing panel" }).getByRole("button", { name: "Deliveries" }).click();
    const log = page.getByRole("table", { name: "Webhook deliveries" });
    const delivery = log.locator("tr[data-delivery-id]");
    await until(
      async () =>
        (await delivery.count()) === 1 &&
        (await delivery.locator('[data-delivery-status="delivered"]').count()),
      Boolean,
      "the job's delivery to show as delivered",
    );
    expect(await delivery.locator("td").first().textContent()).toContain("job.ended");
    const attempts = await attemptsOf(delivery);
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toMatch(/^500 \d+ ms/);
    expect(attempts[1]).toMatch(/^200 \d+ ms/);
    const copied = await readMailbox(stack.imap.destination, "hana@new.test", PASSWORD);
    expect(copied.folders.find((f) => f.path === "INBOX")?.messages).toHaveLength(1);
    // The endpoints list follows the open log: its last delivery is the one just made.
    await row.filter({ hasText: "billing panel" }).locator('[data-delivery-status="delivered"]').waitFor();
    await screenshot(page, "webhooks-delivery-log");

    // Redeliver: a third attempt of the same delivery, marked as a redelivery.
    await delivery.getByRole("button", { name: "Redeliver" }).click();
    await until(
      () => attemptsOf(delivery),
      (list) => list.length === 3,
      "the redelivery's attempt in the log",
    );
    expect((await attemptsOf(delivery))[2]).toMatch(/^200 \d+ ms · redelivery/);

    // What the receiver got: three requests for the job's end, each signed with the secret shown once.
    const hooks = receiver.received.filter((r) => r.path === "/panel-hook");
    expect(hooks.map((h) => h.status)).toEqual([500, 200, 200]);
    for (const hook of hooks) {
      expect(signatureMatches(secret, hook)).toBe(true);
      expect(JSON.parse(hook.body)).toMatchObject({
        type: "job.ended",
        data: { job: { id: job.id, status: "done" } },
      });
    }
  });
});
