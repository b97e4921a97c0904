import { describe, expect, it } from "vitest";
import { generatePassword, hashPassword, verifyPassword } from "./password-hash.ts";

describe("password hashing", () => {
  it("verifies the right password and rejects a wrong one", async () => {
    const stored = await hashPassword("correct horse battery staple");
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(stored).not.toContain("correct horse");
    expect(await verifyPassword("correct horse battery staple", stored)).toBe(true);
    expect(await verifyPassword("correct horse battery stapler", stored)).toBe(false);
  });

  it("salts every hash, so equal passwords do not look equal", async () => {
    const [a, b] = await Promise.all([hashPassword("same password!"), hashPassword("same password!")]);
    expect(a).not.toBe(b);
  });

  it("treats composed and decomposed Unicode as the same password", async () => {
    const stored = await hashPassword("Caf\u00e9-passwort-lang");
    expect(await verifyPassword("Cafe\u0301-passwort-lang", stored)).toBe(true);
  });

  it("never matches a malformed stored value", async () => {
    for (const stored of ["", "plain", "scrypt$x$8$1$AAAA$BBBB", "bcrypt$1$2$3$4$5"]) {
      expect(await verifyPassword("anything", stored)).toBe(false);
    }
  });

  it("generates long, URL-safe passwords", () => {
    const passwords = new Set(Array.from({ length: 50 }, generatePassword));
    expect(passwords.size).toBe(50);
    for (const p of passwords) expect(p).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });
});
