import { createHash, randomBytes } from "node:crypto";

/** 32 random bytes, URL-safe: unguessable, and short enough for a link in an email. */
export function newLinkToken(): string {
  return randomBytes(32).toString("base64url");
}

/** What is stored and looked up: a copy of the database must not open anyone's link. */
export function hashLinkToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** A token as newLinkToken makes it; anything else is refused before a database lookup. */
export function looksLikeLinkToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}

/** Where the owner opens the link: a page of the server, outside the panel's login. */
export function linkUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/credentials/${token}`;
}
