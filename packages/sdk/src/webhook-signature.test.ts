import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { verifyWebhookSignature } from "./webhook-signature.ts";

describe("verifyWebhookSignature", () => {
  const secret = "whsec_receiver-test-secret";
  const body = '{"id":"evt_7","type":"batch.ended","createdAt":"2026-12-07T01:00:00.000Z","data":{}}';
  const now = new Date("2026-12-07T01:00:05Z");
  const t = Math.floor(now.getTime() / 1000) - 5;
  const header = `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`;

  it("accepts the header imapferry sends for this body and secret", async () => {
    expect(await verifyWebhookSignature(secret, header, body, { now })).toBe(true);
  });

  it("refuses a changed body, another secret, a stale timestamp and a malformed header", async () => {
    expect(await verifyWebhookSignature(secret, header, body.replace("7", "8"), { now })).toBe(false);
    expect(await verifyWebhookSignature("whsec_not-the-secret", header, body, { now })).toBe(false);
    expect(
      await verifyWebhookSignature(secret, header, body, { now: new Date(now.getTime() + 600_000) }),
    ).toBe(false);
    expect(await verifyWebhookSignature(secret, "v1=00", body, { now })).toBe(false);
  });
});
