import { describe, expect, it } from "vitest";
import {
  WEBHOOK_RETRY_MAX_DELAY_MS,
  WEBHOOK_RETRY_WINDOW_MS,
  webhookRetryDelayMs,
} from "./retry-schedule.ts";

describe("webhook retry schedule", () => {
  it("doubles from the base, between half and all of each step (jitter)", () => {
    expect(webhookRetryDelayMs(1, 30_000, () => 0)).toBe(15_000);
    expect(webhookRetryDelayMs(1, 30_000, () => 1)).toBe(30_000);
    expect(webhookRetryDelayMs(2, 30_000, () => 1)).toBe(60_000);
    expect(webhookRetryDelayMs(4, 30_000, () => 0.5)).toBe(180_000);
  });

  it("waits at most an hour between attempts, and keeps trying for the whole day", () => {
    expect(webhookRetryDelayMs(30, 30_000, () => 1)).toBe(WEBHOOK_RETRY_MAX_DELAY_MS);
    let elapsed = 0;
    let attempts = 1;
    while (elapsed < WEBHOOK_RETRY_WINDOW_MS) {
      elapsed += webhookRetryDelayMs(attempts, 30_000, () => 1);
      attempts++;
    }
    // With the longest waits: 30 s, 1, 2, 4, 8, 16, 32 min, then hourly until 24 h have passed.
    expect(attempts).toBe(31);
  });
});
