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
  session.write(`Host${side}: throttled (${text}): waiting ${seconds} s in process before trying again`);
  await new Promise((resolve) => setTimeout(resolve, asked.waitMs));
  session.write(`Host${side}: waited ${seconds} s; trying again`);
  return !session.stopping;
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
 * (see queue/in-process-wait.ts); a long one stops the run (with the server's words, so the worker
 * knows how long to wait) by closing the connection, which ends imapflow's wait at once.
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
      if (waitMs <= IN_PROCESS_WAIT_LIMIT_MS) {
        session.write(
          `Host${side}: throttled (${text}): waiting ${seconds} s in process before trying again`,
        );
        setTimeout(() => session.write(`Host${side}: waited ${seconds} s; trying again`), waitMs).unref();
        return;
      }
      session.write(
        `Host${side}: throttled (${text}): stopping the run rather than waiting ${seconds} s in process; it resumes from the queue`,
      );
      session.halt ??= SYNC_EXIT.withErrors;
      // After imapflow has started its wait (right after this log call), so closing ends the wait.
      setImmediate(() => client()?.close());
    },
  };
}
