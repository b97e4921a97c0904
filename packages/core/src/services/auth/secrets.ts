import { createHash, randomBytes } from "node:crypto";

/**
 * Session ids and API tokens carry 256 random bits, so a plain SHA-256 is enough to store them:
 * unlike passwords they cannot be guessed from a dictionary, and a fast hash keeps per-request
 * authentication cheap.
 */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export function randomSecret(): string {
  return randomBytes(32).toString("base64url");
}
