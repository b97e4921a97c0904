import type { EventHub, ServiceContext } from "@imapferry/core";
import { CHANNELS } from "@imapferry/core";
import type { Authentication } from "./authenticate.ts";
import { authenticate } from "./authenticate.ts";

/**
 * A live stream (SSE) is authenticated once, when it opens, and may then run for hours. This ends it
 * when the credentials it opened with stop working: a revoked or expired token, a session that ended
 * (logout, expiry) or a password reset. Those changes NOTIFY (CHANNELS.credentials, with the user id),
 * so the streams of that user authenticate again at once; a periodic check covers expiry and NOTIFYs
 * lost while the event connection was down.
 */
export interface CredentialWatch {
  /** `signal` aborts when the credentials in `headers` stop working; call `stop` when the stream ends. */
  watch(auth: Authentication, headers: Headers): { signal: AbortSignal; stop(): void };
}

/** @param recheckMs @defaultValue 60 s: the longest an expired token's stream outlives it. */
export function createCredentialWatch(
  ctx: ServiceContext,
  hub: EventHub,
  recheckMs = 60_000,
): CredentialWatch {
  return {
    watch(auth, headers) {
      const ended = new AbortController();
      const userId = auth.principal?.userId;
      if (userId === undefined) {
        ended.abort();
        return { signal: ended.signal, stop() {} };
      }
      let checking = false;
      async function checkAgain() {
        if (checking || ended.signal.aborted) return;
        checking = true;
        try {
          const again = await authenticate(ctx, headers);
          if (!again.principal) ended.abort();
        } catch (e: unknown) {
          // The database did not answer: keep the stream; the next check decides.
          ctx.log.warn("could not check a live stream's credentials", {
            error: e instanceof Error ? e.message : String(e),
          });
        } finally {
          checking = false;
        }
      }
      const unsubscribe = hub.subscribe(CHANNELS.credentials, function onCredentialsEnded(event) {
        if (event.userId === userId) void checkAgain();
      });
      const stopReconnect = hub.onReconnect(() => void checkAgain());
      const timer = setInterval(() => void checkAgain(), recheckMs);
      timer.unref();
      return {
        signal: ended.signal,
        stop() {
          clearInterval(timer);
          stopReconnect();
          unsubscribe();
        },
      };
    },
  };
}
