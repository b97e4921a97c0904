import { describe, expect, it } from "vitest";
import { renderLinkEmail } from "./link-email.ts";
import { hashLinkToken, linkUrl, looksLikeLinkToken, newLinkToken } from "./link-token.ts";

describe("credential link tokens", () => {
  it("are 43 URL-safe characters, different every time, and stored as their sha256", () => {
    const a = newLinkToken();
    const b = newLinkToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(looksLikeLinkToken(a)).toBe(true);
    expect(hashLinkToken(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashLinkToken(a)).not.toContain(a);
  });

  it("refuses what no token looks like before any lookup", () => {
    for (const bad of ["", "short", `${"a".repeat(42)}!`, "a".repeat(44), "../../etc/passwd"]) {
      expect(looksLikeLinkToken(bad)).toBe(false);
    }
  });

  it("point at /credentials/<token> under the public URL, whatever its trailing slash", () => {
    expect(linkUrl("https://ferry.example/", "tok")).toBe("https://ferry.example/credentials/tok");
    expect(linkUrl("https://ferry.example/base", "tok")).toBe("https://ferry.example/base/credentials/tok");
  });
});

describe("the email to a mailbox's owner", () => {
  const input = {
    login: "alice@old.example",
    serverName: "Old provider",
    url: "https://ferry.example/credentials/abc",
    expiresAt: new Date("2026-12-14T10:00:00Z"),
  };

  it("names the mailbox and its server, gives the one link and when it stops working", () => {
    const email = renderLinkEmail({ ...input, reminder: false });
    expect(email.subject).toBe("Action needed: your mailbox alice@old.example is being moved");
    expect(email.text).toContain("Your mailbox alice@old.example (on Old provider) is being moved");
    expect(email.text).toContain("\nhttps://ferry.example/credentials/abc\n");
    expect(email.text).toContain("until Mon, 14 Dec 2026 10:00 UTC.");
    expect(email.text).toContain("Never send the password by email.");
  });

  it("says a reminder is one", () => {
    const email = renderLinkEmail({ ...input, reminder: true });
    expect(email.subject).toBe("Reminder: your mailbox alice@old.example is waiting for its password");
    expect(email.text).toContain("You have not used it yet.");
  });
});
