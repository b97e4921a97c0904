/**
 * What a TypeScript receiver checks before trusting a webhook: the `Imapferry-Signature` header
 * (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`) computed with the endpoint's secret over the
 * raw request body, and a timestamp close to now (a replayed old delivery fails). Uses Web Crypto, so
 * it runs in Node 20, Deno, Bun and edge runtimes alike.
 */
export async function verifyWebhookSignature(
  secret: string,
  header: string,
  rawBody: string,
  options: {
    /** @defaultValue 300 */
    toleranceSeconds?: number;
    /** @defaultValue new Date() */
    now?: Date;
  } = {},
): Promise<boolean> {
  const fields = header.split(",").map((part) => part.trim().split("=", 2) as [string, string?]);
  const timestamp = Number(fields.find(([key]) => key === "t")?.[1]);
  if (!Number.isInteger(timestamp)) return false;
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  for (const [name, value] of fields) {
    if (name !== "v1" || !value || !/^[0-9a-f]{64}$/i.test(value)) continue;
    const signature = new Uint8Array(value.match(/../g)?.map((byte) => Number.parseInt(byte, 16)) ?? []);
    // crypto.subtle.verify compares in constant time.
    if (await crypto.subtle.verify("HMAC", key, signature, encoder.encode(`${timestamp}.${rawBody}`))) {
      return true;
    }
  }
  return false;
}
