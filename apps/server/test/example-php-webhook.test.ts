import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createApiToken } from "@imapferry/core";
import type { ImapferryClient } from "@imapferry/sdk";
import { createClient } from "@imapferry/sdk";
import { ensurePhp, freePort } from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";
import { waitFor } from "./support/wait-for.ts";

// examples/php/webhook-receiver.php (the README's signature check) under Debian's php-cli built-in web
// server, as a real webhook endpoint: a delivery with the right secret is kept, one signed with another
// secret is refused, and imapferry's delivery log says so.

const RECEIVER = path.resolve(import.meta.dirname, "../../../examples/php/webhook-receiver.php");

/** `php -S` serving the receiver with this secret (in its environment, as a panel configures it). */
async function startPhpReceiver(
  secret: string,
  log: string,
): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn("php", ["-S", `127.0.0.1:${port}`, RECEIVER], {
    env: { PATH: process.env.PATH ?? "", IMAPFERRY_WEBHOOK_SECRET: secret, IMAPFERRY_WEBHOOK_LOG: log },
    stdio: "ignore",
  });
  const failed = new Promise<never>((_, reject) =>
    child.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        e.code === "ENOENT"
          ? new Error("php is not installed: apt-get install php-cli (as .ci/run does).")
          : e,
      ),
    ),
  );
  const url = `http://127.0.0.1:${port}/hook`;
  await Promise.race([
    failed,
    waitFor("php -S to listen", async () => {
      try {
        return (await fetch(url, { method: "POST", body: "{}" })).status === 400;
      } catch {
        return false;
      }
    }),
  ]);
  return { url, process: child };
}

describe("the PHP webhook receiver example", () => {
  let server: ApiTestServer;
  let client: ImapferryClient;
  let dir: string;
  const receivers: ChildProcess[] = [];

  beforeAll(async () => {
    ensurePhp();
    server = await startApiTestServer({ webhookRetryBaseMs: 60_000 });
    dir = await mkdtemp(path.join(tmpdir(), "imapferry-php-hook-"));
    const admin = await server.ctx.db.selectFrom("users").select("id").executeTakeFirstOrThrow();
    client = createClient({
      url: server.url,
      token: (await createApiToken(server.ctx, admin.id, { name: "php panel" })).token,
    });
  });

  afterAll(async () => {
    for (const child of receivers) child.kill();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("keeps a delivery signed with its secret and refuses one signed with another", async () => {
    const created = await client.webhooks.create.mutate({
      url: "http://127.0.0.1:9/placeholder",
      eventTypes: ["job.ended"],
    });
    const log = path.join(dir, "events.jsonl");
    const php = await startPhpReceiver(created.secret, log);
    receivers.push(php.process);
    await client.webhooks.update.mutate({ id: created.webhook.id, url: php.url });
    const { deliveryId } = await client.webhooks.ping.mutate({ id: created.webhook.id });
    const delivered = await waitFor("the ping to be delivered", async () => {
      const [item] = (await client.webhooks.deliveries.query({ id: created.webhook.id })).items;
      return item?.status === "delivered" ? item : null;
    });
    expect(delivered).toMatchObject({ id: deliveryId, lastStatusCode: 204, attempts: 1 });
    const kept = (await readFile(log, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(kept).toEqual([
      {
        id: delivered.eventId,
        type: "ping",
        delivery: String(deliveryId),
        data: { webhook: { id: created.webhook.id, url: php.url } },
      },
    ]);

    // An endpoint whose receiver was set up with another secret: PHP answers 400 and keeps nothing.
    const other = await client.webhooks.create.mutate({ url: php.url, eventTypes: ["job.ended"] });
    await client.webhooks.ping.mutate({ id: other.webhook.id });
    const refused = await waitFor("the refused attempt", async () => {
      const [item] = (await client.webhooks.deliveries.query({ id: other.webhook.id })).items;
      return item && item.attempts > 0 ? item : null;
    });
    expect(refused).toMatchObject({ status: "pending", lastStatusCode: 400 });
    expect(refused.lastError).toMatch(
      /^127\.0\.0\.1:\d+ answered 400 Bad Request; only a 2xx answer counts as delivered\.$/,
    );
    expect(refused.nextAttemptAt).not.toBeNull();
    expect((await readFile(log, "utf8")).trim().split("\n")).toHaveLength(1);
  });
});
