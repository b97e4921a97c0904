import { ImapferryError } from "../../errors.ts";

export interface LoginRateLimits {
  /** Failed logins from one address before its further attempts are spaced out. @defaultValue 5 */
  addressFailures: number;
  /**
   * Failed logins against one user before further guesses at it are spaced out: guesses from addresses
   * that have failed before; an address with no failed login is never held back. @defaultValue 5
   */
  userFailures: number;
  /** The first delay past the free failures; each further failure doubles it. @defaultValue 1 second */
  baseDelayMs: number;
  /** @defaultValue 15 minutes */
  maxDelayMs: number;
  /** How long a failure counts. @defaultValue 1 hour */
  windowMs: number;
}

export const DEFAULT_LOGIN_RATE_LIMITS: LoginRateLimits = {
  addressFailures: 5,
  userFailures: 5,
  baseDelayMs: 1000,
  maxDelayMs: 15 * 60 * 1000,
  windowMs: 60 * 60 * 1000,
};

/** Keys tracked at most; beyond this the oldest are forgotten so a flood of addresses cannot exhaust memory. */
const MAX_KEYS = 50_000;

interface Record {
  /** When recent failures happened, oldest first. */
  failures: number[];
  /** Attempts whose password is being checked right now: they count as failures until they end. */
  pending: number;
}

/** One login attempt, counted from the moment it began; end it with exactly one of these. */
export interface LoginAttempt {
  succeeded(): void;
  failed(): void;
}

/**
 * Throttles password guessing, in memory, per address and per user name, with delays that double
 * after each failure past a free allowance. Attempts are counted when they begin, before the password
 * is checked (synchronously, so concurrent requests cannot all slip under a limit), and count as
 * failures until they end.
 *
 * A stranger's failures never lock the owner out: a user's delay holds back only addresses that have
 * failed before, so the right password from an address that has not been guessing is always checked.
 * One process is the unit; several API processes each apply the limits.
 */
export class LoginRateLimiter {
  readonly #limits: LoginRateLimits;
  readonly #now: () => number;
  readonly #byAddress = new Map<string, Record>();
  readonly #byUser = new Map<string, Record>();

  constructor(limits: Partial<LoginRateLimits> = {}, now: () => number = Date.now) {
    this.#limits = { ...DEFAULT_LOGIN_RATE_LIMITS, ...limits };
    this.#now = now;
  }

  /** Counts an attempt, or throws RATE_LIMITED (saying when to retry) without counting it. */
  beginAttempt(address: string, username: string): LoginAttempt {
    const now = this.#now();
    const byAddress = this.#record(this.#byAddress, address, now);
    const byUser = this.#record(this.#byUser, username.toLowerCase(), now);
    const addressWait = this.#wait(byAddress, this.#limits.addressFailures, now);
    if (addressWait > 0) throw limited("from your address", addressWait);
    const addressIsClean = byAddress.failures.length + byAddress.pending === 0;
    const userWait = addressIsClean ? 0 : this.#wait(byUser, this.#limits.userFailures, now);
    if (userWait > 0) throw limited("for this user from your address", userWait);
    byAddress.pending++;
    byUser.pending++;
    let ended = false;
    const end = (failed: boolean) => {
      if (ended) return;
      ended = true;
      const at = this.#now();
      for (const record of [byAddress, byUser]) {
        record.pending--;
        if (failed) record.failures.push(at);
      }
    };
    return { succeeded: () => end(false), failed: () => end(true) };
  }

  /** How long the next attempt must wait: nothing within the free failures, then doubling delays. */
  #wait(record: Record, free: number, now: number): number {
    const count = record.failures.length + record.pending;
    if (count < free) return 0;
    const delay = Math.min(this.#limits.maxDelayMs, this.#limits.baseDelayMs * 2 ** (count - free));
    // An attempt still being checked counts as a failure that just happened.
    const last = record.pending > 0 ? now : (record.failures.at(-1) ?? now);
    return Math.max(0, last + delay - now);
  }

  /** The live record for `key`, with failures older than the window dropped; most recent use last. */
  #record(map: Map<string, Record>, key: string, now: number): Record {
    const since = now - this.#limits.windowMs;
    const record = map.get(key) ?? { failures: [], pending: 0 };
    while (record.failures.length > 0 && (record.failures[0] ?? 0) <= since) record.failures.shift();
    map.delete(key);
    map.set(key, record);
    if (map.size > MAX_KEYS) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
    return record;
  }
}

function limited(scope: string, waitMs: number): ImapferryError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new ImapferryError(
    "RATE_LIMITED",
    `Too many failed logins ${scope}. Try again in ${seconds} second${seconds === 1 ? "" : "s"}.`,
  );
}
