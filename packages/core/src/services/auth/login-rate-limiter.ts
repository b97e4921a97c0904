import { ImapferryError } from "../../errors.ts";

export interface LoginRateLimits {
  /** Login attempts allowed from one IP address per window. @defaultValue 20 */
  perIp: number;
  /** Failed attempts allowed against one user name per window. @defaultValue 10 */
  perUserFailures: number;
  /** @defaultValue 15 minutes */
  windowMs: number;
}

export const DEFAULT_LOGIN_RATE_LIMITS: LoginRateLimits = {
  perIp: 20,
  perUserFailures: 10,
  windowMs: 15 * 60 * 1000,
};

/** Keys tracked at most; beyond this the oldest are forgotten so a flood of addresses cannot exhaust memory. */
const MAX_KEYS = 50_000;

/**
 * Sliding-window limits on login attempts, in memory: per IP (all attempts, which stops spraying many
 * user names) and per user name (failures only, which stops guessing one password from many IPs
 * without locking out the owner after they log in). One process is the unit; several API processes
 * each apply the limits, which still caps guessing at a small multiple.
 */
export class LoginRateLimiter {
  readonly #limits: LoginRateLimits;
  readonly #now: () => number;
  readonly #byIp = new Map<string, number[]>();
  readonly #failuresByUser = new Map<string, number[]>();

  constructor(limits: Partial<LoginRateLimits> = {}, now: () => number = Date.now) {
    this.#limits = { ...DEFAULT_LOGIN_RATE_LIMITS, ...limits };
    this.#now = now;
  }

  /** Records an attempt; throws RATE_LIMITED (saying when to retry) when the IP or the user is over its limit. */
  checkAttempt(ip: string, username: string): void {
    const now = this.#now();
    const ipAttempts = this.#recent(this.#byIp, ip, now);
    const userFailures = this.#recent(this.#failuresByUser, username.toLowerCase(), now);
    if (ipAttempts.length >= this.#limits.perIp) throw this.#limited("from your address", ipAttempts, now);
    if (userFailures.length >= this.#limits.perUserFailures)
      throw this.#limited("for this user", userFailures, now);
    ipAttempts.push(now);
    this.#store(this.#byIp, ip, ipAttempts);
  }

  recordFailure(username: string): void {
    const key = username.toLowerCase();
    const now = this.#now();
    const failures = this.#recent(this.#failuresByUser, key, now);
    failures.push(now);
    this.#store(this.#failuresByUser, key, failures);
  }

  recordSuccess(username: string): void {
    this.#failuresByUser.delete(username.toLowerCase());
  }

  #recent(map: Map<string, number[]>, key: string, now: number): number[] {
    const since = now - this.#limits.windowMs;
    return (map.get(key) ?? []).filter((t) => t > since);
  }

  #store(map: Map<string, number[]>, key: string, times: number[]): void {
    map.delete(key);
    map.set(key, times);
    if (map.size > MAX_KEYS) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
  }

  #limited(scope: string, times: number[], now: number): ImapferryError {
    const retryAfterSeconds = Math.max(
      1,
      Math.ceil(((times[0] ?? now) + this.#limits.windowMs - now) / 1000),
    );
    return new ImapferryError(
      "RATE_LIMITED",
      `Too many login attempts ${scope}. Try again in ${retryAfterSeconds} seconds.`,
    );
  }
}
