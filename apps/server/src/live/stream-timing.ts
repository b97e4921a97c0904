/**
 * How often live streams (jobs.events, logs.tail) act on their own, in one place: the heartbeat also
 * sets how long a client waits before it reconnects (see trpc/init.ts).
 */

/** Quiet subscriptions send a heartbeat this often, so proxies keep them open and clients can tell a dead one. */
export const HEARTBEAT_MS = 20_000;

/** While a subscription is open its jobs count as watched (notifications are suppressed meanwhile). */
export const WATCH_REFRESH_MS = 20_000;
