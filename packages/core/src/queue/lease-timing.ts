/**
 * The clock of a job lease, in one place because both sides of the fence depend on it.
 *
 * The holder renews its leases every `heartbeatMs`. It measures each lease from the moment it *sent*
 * the renewal (on its monotonic clock), which is never later than the database's own `now()` for it,
 * so its idea of the deadline can only be early. If no renewal succeeds, it kills its engines
 * `killMarginMs` before that deadline, whatever its database connection is doing (hung, refused,
 * half-open). Anyone else takes the job over only once the lease has been expired for `takeMarginMs`,
 * which is larger than the kill margin: between the holder's kill and the taker's start lie both
 * margins, time for the engine to die and for a holder whose timers ran late.
 */
export interface LeaseTiming {
  leaseMs: number;
  /** How often the holder renews. */
  heartbeatMs: number;
  /** The holder stops its engines this long before a lease it could not renew ends. */
  killMarginMs: number;
  /** Others take a job only this long after its lease ended. Always more than `killMarginMs`. */
  takeMarginMs: number;
  /** The longest one heartbeat (all of its queries) may take before it counts as failed. */
  heartbeatTimeoutMs: number;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** @param heartbeatMs the worker's preferred heartbeat period; a short lease shortens it. */
export function leaseTiming(leaseSeconds: number, heartbeatMs = 5000): LeaseTiming {
  const leaseMs = leaseSeconds * 1000;
  // Six renewals per lease, whatever the worker asked for: with the kill at three quarters of the
  // lease, three renewals in a row may fail (a slow query, a busy event loop) before the engines stop.
  const period = clamp(Math.min(heartbeatMs, leaseMs / 6), 200, 30_000);
  const killMarginMs = clamp(leaseMs / 4, 500, 15_000);
  return {
    leaseMs,
    heartbeatMs: period,
    killMarginMs,
    takeMarginMs: killMarginMs + clamp(leaseMs / 8, 500, 10_000),
    // Generous: a renewal that answers late still counts (its lease runs from when it was sent), so
    // the deadline only has to catch calls that hang, not slow ones on a loaded machine.
    heartbeatTimeoutMs: clamp(leaseMs / 2, 1000, 10_000),
  };
}
