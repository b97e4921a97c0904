import type { RetryCategory, Settings } from "../services/settings/schemas.ts";
import type { Outcome } from "./decide-outcome.ts";

/** A failed run that waits and then resumes by itself, instead of waiting for a person. */
export interface RetryPlan {
  /** How long until the job resumes. */
  waitMs: number;
  /** Which automatic retry this will be (1 for the first). */
  retry: number;
  /**
   * Whether the wait counts against the retry policy's attempts. A budget wait does not: spreading a
   * big mailbox over many windows is the plan, not a fault. @defaultValue true
   */
  counted?: boolean;
  /** The exact time to resume, when known (a budget window's reset); else now + waitMs. */
  resumeAt?: Date;
}

/**
 * Whether a run that ended this way is retried by itself, and when. Only failures that pass are
 * (a dropped connection that could not be reopened, a throttling server); a refused login, a TLS
 * failure or a missing folder fail at once, since waiting changes nothing. The wait is the server's
 * own suggestion when it gave one, else exponential backoff from the base (1 min, 2, 4 … up to the
 * cap) with ±20 % jitter, so many mailboxes cut off together do not all come back at once.
 */
export function planRetry(
  outcome: Outcome,
  retriesSoFar: number,
  settings: Pick<Settings, "retryMaxAttempts" | "retryBaseSeconds" | "retryCapSeconds" | "retryCategories">,
  random: () => number = Math.random,
): RetryPlan | null {
  if (!outcome.passing || !retriedFault(outcome, settings)) return null;
  if (retriesSoFar >= settings.retryMaxAttempts) return null;
  const capMs = settings.retryCapSeconds * 1000;
  const suggested = outcome.passing.waitMs;
  const backoff = settings.retryBaseSeconds * 1000 * 2 ** retriesSoFar;
  const jittered = backoff * (0.8 + 0.4 * random());
  // A server's suggestion is honoured even past the cap: coming back sooner is what gets accounts locked.
  const waitMs = suggested !== null ? Math.max(suggested, 1000) : Math.min(jittered, capMs);
  return { waitMs: Math.round(waitMs), retry: retriesSoFar + 1 };
}

/** Which retry category a run's outcome category falls in, if it is one that passes. */
function retryCategoryOf(category: string | null): RetryCategory | null {
  switch (category) {
    case "connect":
    case "source-connect":
    case "destination-connect":
      return "connection";
    case "throttled":
      return "throttled";
    case "oauth2-token":
    case "oauth2-token-expired":
      return "oauth2-token";
    default:
      return null;
  }
}

/**
 * A failure that passes, of a kind the settings retry. A passing failure of another category (none
 * today) is retried as a connection fault would be, rather than failing a job the engine meant to resume.
 */
export function retriedFault(outcome: Outcome, settings: Pick<Settings, "retryCategories">): boolean {
  if (outcome.status !== "failed" || !outcome.passing) return false;
  const category = retryCategoryOf(outcome.category) ?? "connection";
  return settings.retryCategories.includes(category);
}

/** The failed outcome turned into a wait: same category, the sentence says when it resumes. */
export function waitingOutcome(
  outcome: Outcome,
  plan: RetryPlan,
  maxRetries: number,
  now = Date.now(),
): Outcome {
  const at = new Date(now + plan.waitMs)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");
  return {
    ...outcome,
    status: "waiting",
    retry: plan,
    sentence: `${outcome.sentence ?? "The run stopped."} It resumes by itself at ${at} (automatic retry ${plan.retry} of ${maxRetries}).`,
  };
}

/** A failure that would have passed, after the job's automatic retries ran out: the sentence says so. */
export function retriesUsedUp(outcome: Outcome, retriesSoFar: number): Outcome {
  const spent = retriesSoFar === 1 ? "1 automatic retry" : `${retriesSoFar} automatic retries`;
  return {
    ...outcome,
    sentence: `${outcome.sentence ?? "The run stopped."} It was not retried again: the job has used ${spent}, the most the retry policy allows (Settings); rerun it to try again.`,
  };
}
