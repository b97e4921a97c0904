import { describe, expect, it } from "vitest";
import { isImapferryError } from "../../errors.ts";
import { LoginRateLimiter } from "./login-rate-limiter.ts";

function limitedMessage(attempt: () => void): string | null {
  try {
    attempt();
    return null;
  } catch (e: unknown) {
    if (isImapferryError(e) && e.code === "RATE_LIMITED") return e.message;
    throw e;
  }
}

describe("login rate limiter", () => {
  it("stops a user name after too many failures, and says when to retry", () => {
    let now = 1_000_000;
    const limiter = new LoginRateLimiter({ perIp: 100, perUserFailures: 3, windowMs: 60_000 }, () => now);
    for (let i = 0; i < 3; i++) {
      limiter.checkAttempt(`10.0.0.${i}`, "Admin");
      limiter.recordFailure("Admin");
    }
    expect(limitedMessage(() => limiter.checkAttempt("10.0.0.9", "admin"))).toBe(
      "Too many login attempts for this user. Try again in 60 seconds.",
    );
    now += 60_001;
    expect(limitedMessage(() => limiter.checkAttempt("10.0.0.9", "admin"))).toBeNull();
  });

  it("forgets a user's failures after a successful login", () => {
    const limiter = new LoginRateLimiter({ perIp: 100, perUserFailures: 2 });
    limiter.recordFailure("bob");
    limiter.recordSuccess("bob");
    limiter.recordFailure("bob");
    expect(limitedMessage(() => limiter.checkAttempt("10.0.0.1", "bob"))).toBeNull();
  });

  it("limits every attempt from one address, whatever the user names", () => {
    let now = 0;
    const limiter = new LoginRateLimiter({ perIp: 5, perUserFailures: 100, windowMs: 10_000 }, () => now);
    for (let i = 0; i < 5; i++) {
      now += 1000;
      limiter.checkAttempt("192.0.2.7", `user${i}`);
    }
    expect(limitedMessage(() => limiter.checkAttempt("192.0.2.7", "user9"))).toMatch(
      /from your address\. Try again in 6 seconds/,
    );
    expect(limitedMessage(() => limiter.checkAttempt("192.0.2.8", "user9"))).toBeNull();
    // The window slides: the oldest attempt leaves it first.
    now = 11_001;
    expect(limitedMessage(() => limiter.checkAttempt("192.0.2.7", "user9"))).toBeNull();
  });
});
