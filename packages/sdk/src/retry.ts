import { TRPCClientError } from "@trpc/client";

/**
 * Whether a failed call is worth retrying: the network failed or the server answered 5xx (restarting,
 * database briefly away). A 4xx (not found, unauthorized, bad input) will fail the same way again.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof TRPCClientError) {
    const status = (error.data as { httpStatus?: number } | undefined)?.httpStatus;
    return status === undefined || status >= 500;
  }
  return true;
}

/** Waits `ms`, or less if `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

/** 250 ms, 500 ms, 1 s … up to 5 s between attempts to reconnect. */
export function backoffMs(failures: number): number {
  return Math.min(5000, 250 * 2 ** Math.min(failures, 5));
}

/** A controller that also aborts when `parent` does. */
export function linkedController(parent?: AbortSignal): Pick<AbortController, "signal" | "abort"> {
  const own = new AbortController();
  if (!parent) return own;
  // AbortSignal.any rather than a listener on `parent`: a long-lived parent (one signal for a whole
  // control panel session) neither collects a listener per follow nor warns about a "leak" on Node
  // once eleven logs are followed at once.
  return { signal: AbortSignal.any([parent, own.signal]), abort: (reason?: unknown) => own.abort(reason) };
}

/**
 * Follows a subscription for as long as it lasts: when the connection drops (the network, a server
 * restart: anything `isRetryable`), opens it again after a backoff that starts over with each event
 * received. `open` is given the signal to close the stream with; leaving the loop early closes it.
 */
export async function* resubscribing<T>(
  open: (signal: AbortSignal) => AsyncIterable<T>,
  signal?: AbortSignal,
): AsyncGenerator<T, void, undefined> {
  // Our own controller, so leaving the loop early also closes the stream.
  const stop = linkedController(signal);
  let failures = 0;
  try {
    while (!stop.signal.aborted) {
      try {
        for await (const event of open(stop.signal)) {
          failures = 0;
          yield event;
        }
        return;
      } catch (e: unknown) {
        if (stop.signal.aborted) return;
        if (!isRetryable(e)) throw e;
        await pause(backoffMs(failures++), stop.signal);
      }
    }
  } finally {
    stop.abort();
  }
}
