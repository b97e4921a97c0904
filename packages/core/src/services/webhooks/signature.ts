import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** A generated endpoint secret: 32 random bytes, recognisable by its prefix in a receiver's config. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

/** The hex HMAC-SHA256 of "<t>.<body>" under `secret`: what `v1=` carries. */
export function webhookSignatureDigest(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

/**
 * The `Imapferry-Signature` header: `t=<unix seconds>,v1=<hex>`. The timestamp is signed with the body
 * so a receiver can refuse replays of an old delivery (compare `t` with its clock).
 */
export function webhookSignatureHeader(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${webhookSignatureDigest(secret, timestamp, body)}`;
}

/**
 * What a receiver does: true when `header` carries a v1 signature of `body` under `secret` and its
 * timestamp is within `toleranceSeconds` of `now`. Compared in constant time.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string,
  body: string,
  options: { now?: Date; toleranceSeconds?: number } = {},
): boolean {
  const parts = new Map<string, string[]>();
  for (const item of header.split(",")) {
    const [key, value] = item.split("=", 2);
    if (key && value) parts.set(key.trim(), [...(parts.get(key.trim()) ?? []), value.trim()]);
  }
  const timestamp = Number(parts.get("t")?.[0]);
  if (!Number.isInteger(timestamp)) return false;
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(webhookSignatureDigest(secret, timestamp, body), "hex");
  return (parts.get("v1") ?? []).some((candidate) => {
    const given = Buffer.from(candidate, "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
