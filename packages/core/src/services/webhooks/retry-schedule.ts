/** How long a delivery keeps being retried after its first attempt. */
export const WEBHOOK_RETRY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** The first retry's delay before jitter. @defaultValue 30 s */
export const DEFAULT_WEBHOOK_RETRY_BASE_MS = 30_000;
/** No wait between two attempts is longer than this, so a receiver back after an outage hears soon. */
export const WEBHOOK_RETRY_MAX_DELAY_MS = 60 * 60 * 1000;

/**
 * The wait before attempt `failedAttempts + 1`: the base doubled per failure, capped at an hour, then
 * "equal jitter" (between half and all of it) so receivers coming back from an outage are not hit by
 * every sender's retries in the same second. With the 30 s base: ~30 s, 1 min, 2 min … 1 h, 1 h …
 */
export function webhookRetryDelayMs(
  failedAttempts: number,
  baseMs: number = DEFAULT_WEBHOOK_RETRY_BASE_MS,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(WEBHOOK_RETRY_MAX_DELAY_MS, baseMs * 2 ** Math.max(0, failedAttempts - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}
