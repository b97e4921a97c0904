import { describe, expect, it } from "vitest";
import { isImapferryError } from "../../errors.ts";
import type { LoginAttempt } from "./login-rate-limiter.ts";
import { LoginRateLimiter } from "./login-rate-limiter.ts";

function attempt(limiter: LoginRateLimiter, address: string, user: string): LoginAttempt | string {
  try {
    return limiter.beginAttempt(address, user);
  } catch (e: unknown) {
    if (isImapferryError(e) && e.code === "RATE_LIMITED") return e.message;
    throw e;
  }
}

function fail(limiter: LoginRateLimiter, address: string, user: string): string | null {
  const result = attempt(limiter, address, user);
  if (typeof result === "string") return result;
  result.failed();
  return null;
}

describe("login rate limiter", () => {
  it("counts an attempt when it begins: concurrent guesses cannot all slip under the limit", () => {
    const limiter = new LoginRateLimiter({ addressFailures: 3, userFailures: 100 });
    const results = Array.from({ length: 20 }, () => attempt(limiter, "192.0.2.1", "admin"));
    expect(results.filter((r) => typeof r !== "string")).toHaveLength(3);
    expect(results.at(-1)).toMatch(/^Too many failed logins from your address\. Try again in 1 second\.$/);
  });

  it("spaces out an address's guesses with doubling delays, and lets it go once they pass", () => {
    let now = 1_000_000;
    const limiter = new LoginRateLimiter(
      { addressFailures: 2, userFailures: 100, baseDelayMs: 1000, maxDelayMs: 8000 },
      () => now,
    );
    expect(fail(limiter, "192.0.2.7", "a")).toBeNull();
    expect(fail(limiter, "192.0.2.7", "b")).toBeNull();
    const waits: string[] = [];
    for (let i = 0; i < 5; i++) {
      waits.push(fail(limiter, "192.0.2.7", "c") ?? "");
      now += 1000 * 2 ** i;
      expect(fail(limiter, "192.0.2.7", "c")).toBeNull();
    }
    expect(waits).toEqual(
      [1, 2, 4, 8, 8].map(
        (s) => `Too many failed logins from your address. Try again in ${s} second${s === 1 ? "" : "s"}.`,
      ),
    );
    expect(fail(limiter, "192.0.2.8", "c")).toBeNull();
  });

  it("holds back guesses at a user from addresses that failed, never the owner's clean address", () => {
    let now = 0;
    const limiter = new LoginRateLimiter({ addressFailures: 100, userFailures: 3 }, () => now);
    for (let i = 0; i < 3; i++) expect(fail(limiter, "203.0.113.9", "Admin")).toBeNull();
    expect(fail(limiter, "203.0.113.9", "admin")).toBe(
      "Too many failed logins for this user from your address. Try again in 1 second.",
    );
    // A stranger's address that already failed elsewhere is held back too.
    expect(fail(limiter, "198.51.100.1", "bob")).toBeNull();
    expect(typeof attempt(limiter, "198.51.100.1", "admin")).toBe("string");
    // The owner, from an address that has not been guessing, is let through.
    const owner = attempt(limiter, "192.0.2.50", "admin");
    expect(typeof owner).not.toBe("string");
    (owner as LoginAttempt).succeeded();
    now += 60 * 60 * 1000 + 1;
    expect(fail(limiter, "203.0.113.9", "admin")).toBeNull();
  });

  it("a success ends the attempt without counting a failure", () => {
    const limiter = new LoginRateLimiter({ addressFailures: 1, userFailures: 1 });
    for (let i = 0; i < 5; i++) {
      const a = attempt(limiter, "192.0.2.1", "bob");
      expect(typeof a).not.toBe("string");
      (a as LoginAttempt).succeeded();
    }
  });
});
