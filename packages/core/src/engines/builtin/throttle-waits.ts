import type { ImapFlow } from "imapflow";
import { SYNC_EXIT } from "./exit-codes.ts";
import type { SyncSession } from "./sync-session.ts";

/**
 * The longest suggested backoff the engine waits out in its own process (imapflow holds the throttled
 * command and sends it again). Past it the run ends, so it does not hold a worker slot for minutes:
 * the job waits in the queue until the server's time instead (the worker's retry policy reads the
 * suggestion from the line printed here).
 */
export const IN_PROCESS_WAIT_LIMIT_MS = 30_000;

/**
 * Whether the run may spend one more of the job's automatic retries (`--retries`) on waiting out a
 * throttling server or on reconnecting, as the worker's retry policy would on a run that ended. When
 * not, the run is halted: a server that keeps cutting the connection cannot keep a job retrying
 * forever within one run.
 */
export function retryLeft(side: 1 | 2, session: SyncSession, what: string): boolean {
  const budget = session.args.retries;
  if (budget === undefined || session.retriesSpent < budget) return true;
  session.write(
    `Host${side}: ${what} would need an automatic retry, but the job's automatic retries are used up: stopping the run`,
  );
  session.halt ??= SYNC_EXIT.withErrors;
  return false;
}

/**
 * Spends one automatic retry, announced in a line the worker counts against the job's budget
 * (queue/in-process-wait.ts). False, with the run halted, when none is left.
 */
export function spendRetry(side: 1 | 2, session: SyncSession, what: string): boolean {
  if (!retryLeft(side, session, what)) return false;
  session.retriesSpent += 1;
  const budget = session.args.retries;
  const left = budget === undefined ? "" : `; ${budget - session.retriesSpent} left`;
  session.write(`Host${side}: automatic retry ${session.retriesSpent} of this run (${what})${left}`);
  return true;
}

/** The wait a server's BYE asked for ("Suggested Backoff Time: N milliseconds"), if it asked. */
export function suggestedWaitInBye(client: ImapFlow): { waitMs: number; text: string } | null {
  const reason = (client as unknown as { byeReason?: unknown }).byeReason;
  if (typeof reason !== "string") return null;
  const match = /Suggested Backoff Time[:=\s]+(\d+)/i.exec(reason);
  return match ? { waitMs: Number(match[1]), text: reason } : null;
}

/**
 * Honours a backoff the server asked for as it closed the connection, before reconnecting: a short
 * one is waited out here (announced like imapflow's in-command waits), a long one stops the run.
 * Returns false when the run must stop instead of reconnecting.
 */
export async function waitBeforeReconnect(
  side: 1 | 2,
  session: SyncSession,
  closed: ImapFlow,
): Promise<boolean> {
  const asked = suggestedWaitInBye(closed);
  if (!asked) return true;
  const text = `Suggested Backoff Time: ${asked.waitMs} milliseconds, "BYE ${asked.text}"`;
  const seconds = (asked.waitMs / 1000).toFixed(1);
  if (asked.waitMs > IN_PROCESS_WAIT_LIMIT_MS) {
    session.write(
      `Host${side}: throttled (${text}): stopping the run rather than waiting ${seconds} s in process; it resumes from the queue`,
    );
    session.halt ??= SYNC_EXIT.withErrors;
    return false;
  }
  const joined = ongoingWait(session, side);
  if (joined) {
    await joined.done;
    return !session.stopping;
  }
  session.write(`Host${side}: throttled (${text}): waiting ${seconds} s in process before trying again`);
  await waitInProcess(side, session, asked.waitMs, { keepAlive: true });
  return !session.stopping;
}

/**
 * The wait in progress on one side. The server throttles an account, not a connection: when the
 * folders copied at once all meet it, the first lane's wait is the one announced and counted
 * against the retries, and the other lanes wait along with it ("Resume now" ends them all, through
 * `endEarly`).
 */
function ongoingWait(session: SyncSession, side: 1 | 2) {
  return session.ongoingWaits.get(side);
}

/**
 * One wait spent in this process, announced when it ends ("waited …; trying again", which the worker
 * reads to show the job running again). "Resume now" (resumeRequests) ends it early.
 */
function waitInProcess(
  side: 1 | 2,
  session: SyncSession,
  waitMs: number,
  options: { keepAlive: boolean; endEarly?: () => void },
): Promise<void> {
  const started = performance.now();
  const waits = session.ongoingWaits;
  const endEarly = new Set<() => void>(options.endEarly ? [options.endEarly] : []);
  const done = new Promise<void>((resolve) => {
    const requests = session.io.resumeRequests;
    function end(early: boolean): void {
      clearTimeout(timer);
      waits.delete(side);
      requests?.removeEventListener("resume", resumeNow);
      const waited = ((performance.now() - started) / 1000).toFixed(1);
      session.write(
        early
          ? `Host${side}: waited ${waited} s of ${(waitMs / 1000).toFixed(1)} s (resumed on request); trying again`
          : `Host${side}: waited ${(waitMs / 1000).toFixed(1)} s; trying again`,
      );
      resolve();
    }
    function resumeNow(): void {
      for (const endOne of endEarly) endOne();
      end(true);
    }
    const timer = setTimeout(() => end(false), waitMs);
    if (!options.keepAlive) timer.unref();
    requests?.addEventListener("resume", resumeNow, { once: true });
  });
  waits.set(side, { done, endEarly });
  return done;
}

/**
 * Ends imapflow's wait for a throttled command now, so it sends the command again at once: its
 * pending waits are resolved as if their time had come. (imapflow 2.10 keeps them in
 * `_throttleWaits`, entries of { timer, resolve }; a version without it simply waits the time out.)
 */
function endThrottleWaits(client: ImapFlow | undefined): void {
  const waits = (
    client as unknown as { _throttleWaits?: Set<{ timer: NodeJS.Timeout; resolve(aborted: boolean): void }> }
  )?._throttleWaits;
  if (!(waits instanceof Set)) return;
  for (const wait of [...waits]) {
    clearTimeout(wait.timer);
    waits.delete(wait);
    wait.resolve(false);
  }
}

/** What imapflow logs when a server answers "Request is throttled. Suggested Backoff Time: N milliseconds". */
interface ThrottleLogEntry {
  msg?: unknown;
  throttleDelay?: unknown;
  err?: { responseText?: unknown };
}

/**
 * An imapflow logger that reports a server's suggested backoffs and ignores everything else. Short
 * ones are announced before and after the wait, in lines the worker reads to show the job waiting
 * (see queue/in-process-wait.ts), and each spends one of the job's automatic retries. A long one, or
 * one with no retry left, stops the run (with the server's words, so the worker knows how long to
 * wait) by closing the connection, which ends imapflow's wait at once.
 */
export function throttleLogger(side: 1 | 2, session: SyncSession, client: () => ImapFlow | undefined) {
  const ignore = () => undefined;
  return {
    debug: ignore,
    info: ignore,
    error: ignore,
    warn(entry: ThrottleLogEntry): void {
      if (entry?.msg !== "Throttling detected") return;
      const waitMs = Number(entry.throttleDelay);
      if (!Number.isFinite(waitMs) || waitMs <= 0) return;
      const said = typeof entry.err?.responseText === "string" ? entry.err.responseText : "";
      const text = `Suggested Backoff Time: ${Math.round(waitMs)} milliseconds${said ? `, "${said}"` : ""}`;
      const seconds = (waitMs / 1000).toFixed(1);
      const joined = ongoingWait(session, side);
      if (waitMs > IN_PROCESS_WAIT_LIMIT_MS) {
        session.write(
          `Host${side}: throttled (${text}): stopping the run rather than waiting ${seconds} s in process; it resumes from the queue`,
        );
        session.halt ??= SYNC_EXIT.withErrors;
      } else if (joined) {
        // Another lane is waiting out the same throttle; imapflow holds this command meanwhile.
        joined.endEarly.add(() => endThrottleWaits(client()));
        return;
      } else if (spendRetry(side, session, "waiting out the throttle")) {
        session.write(
          `Host${side}: throttled (${text}): waiting ${seconds} s in process before trying again`,
        );
        // imapflow holds the command meanwhile; this only announces the end (imapflow's own timer
        // keeps the process alive), or ends imapflow's wait early on "Resume now".
        void waitInProcess(side, session, waitMs, {
          keepAlive: false,
          endEarly: () => endThrottleWaits(client()),
        });
        return;
      } else {
        session.write(`Host${side}: throttled (${text}): stopping the run`);
      }
      // After imapflow has started its wait (right after this log call), so closing ends the wait.
      setImmediate(() => client()?.close());
    },
  };
}
