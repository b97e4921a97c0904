import { describe, expect, it } from "vitest";
import { SETTINGS_DEFAULTS } from "../services/settings/schemas.ts";
import type { Outcome } from "./decide-outcome.ts";
import { planRetry, retriedFault, retriesUsedUp } from "./retry-policy.ts";

function failed(category: Outcome["category"], waitMs: number | null = null, passing = true): Outcome {
  return {
    status: "failed",
    exitCode: 111,
    category,
    sentence: "The run stopped.",
    stats: null,
    ...(passing ? { passing: { waitMs } } : {}),
  };
}

const policy = { ...SETTINGS_DEFAULTS, retryBaseSeconds: 60, retryCapSeconds: 3600, retryMaxAttempts: 5 };
const middle = () => 0.5;

describe("planRetry", () => {
  it("retries a passing failure with exponential backoff up to the cap, and the server's wait over it", () => {
    expect(planRetry(failed("destination-connect"), 0, policy, middle)).toEqual({ waitMs: 60_000, retry: 1 });
    expect(planRetry(failed("destination-connect"), 3, policy, middle)).toEqual({
      waitMs: 480_000,
      retry: 4,
    });
    expect(planRetry(failed("source-connect"), 4, { ...policy, retryCapSeconds: 600 }, middle)?.waitMs).toBe(
      600_000,
    );
    expect(planRetry(failed("throttled", 299_961), 0, policy, middle)).toEqual({ waitMs: 299_961, retry: 1 });
  });

  it("does not retry a failure that does not pass, or past the policy's attempts", () => {
    expect(planRetry(failed("destination-auth", null, false), 0, policy, middle)).toBeNull();
    expect(planRetry(failed("throttled"), 5, policy, middle)).toBeNull();
    expect(planRetry(failed("throttled"), 0, { ...policy, retryMaxAttempts: 0 }, middle)).toBeNull();
  });

  it("retries only the faults the settings name", () => {
    const onlyThrottled = { ...policy, retryCategories: ["throttled" as const] };
    expect(planRetry(failed("destination-connect"), 0, onlyThrottled, middle)).toBeNull();
    expect(planRetry(failed("connect"), 0, onlyThrottled, middle)).toBeNull();
    expect(planRetry(failed("throttled"), 0, onlyThrottled, middle)).not.toBeNull();
    expect(retriedFault(failed("oauth2-token-expired", 0), onlyThrottled)).toBe(false);
    expect(retriedFault(failed("oauth2-token-expired", 0), policy)).toBe(true);
    expect(planRetry(failed("throttled"), 0, { ...policy, retryCategories: [] }, middle)).toBeNull();
  });

  it("says when a job has used its retries", () => {
    expect(retriesUsedUp(failed("throttled"), 2).sentence).toBe(
      "The run stopped. It was not retried again: the job has used 2 automatic retries, the most the retry policy allows (Settings); rerun it to try again.",
    );
  });
});
