import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateWebhookSecret, verifyWebhookSignature, webhookSignatureHeader } from "./signature.ts";

describe("webhook signatures", () => {
  const secret = "whsec_test-secret-for-signing";
  const body = '{"id":"evt_1","type":"job.ended","createdAt":"2026-12-07T00:00:00.000Z","data":{}}';
  const now = new Date("2026-12-07T00:00:10Z");
  const t = Math.floor(now.getTime() / 1000) - 10;

  it("signs '<t>.<body>' with HMAC-SHA256, as a receiver recomputes it", () => {
    const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
    expect(webhookSignatureHeader(secret, t, body)).toBe(`t=${t},v1=${expected}`);
  });

  it("verifies its own header and refuses another body, secret or an old timestamp", () => {
    const header = webhookSignatureHeader(secret, t, body);
    expect(verifyWebhookSignature(secret, header, body, { now })).toBe(true);
    expect(verifyWebhookSignature(secret, header, `${body} `, { now })).toBe(false);
    expect(verifyWebhookSignature("whsec_another-secret-entirely", header, body, { now })).toBe(false);
    const later = new Date(now.getTime() + 3600_000);
    expect(verifyWebhookSignature(secret, header, body, { now: later })).toBe(false);
    expect(verifyWebhookSignature(secret, "v1=abc", body, { now })).toBe(false);
    expect(verifyWebhookSignature(secret, `t=${t},v1=zz`, body, { now })).toBe(false);
  });

  it("generates distinct secrets with 256 bits of randomness", () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(generateWebhookSecret()).not.toBe(a);
  });
});
