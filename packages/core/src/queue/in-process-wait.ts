import type { Database } from "@imapferry/db";
import { type Kysely, sql, type UpdateObject } from "kysely";
import { notifyJobsChanged } from "../services/jobs/job-events.ts";

/*
 * The built-in engine waits out a short suggested backoff in its own process (imapflow holds the
 * throttled command and tries again), and says so in its output:
 *   "Host1: throttled (…Suggested Backoff Time: 4000 milliseconds): waiting 4.0 s in process before trying again"
 *   "Host1: waited 4.0 s; trying again"   (or "waited 1.2 s of 4.0 s (resumed on request); …")
 * While it waits, the job shows waiting with its resume time (the row keeps status running, so the
 * lease, the fence and recovery stay as they are; the views and events read running + resume_at as
 * waiting). Longer waits are not spent in process: the engine ends the run and the retry policy hands
 * the job back to the queue (see engines/builtin/throttle-waits.ts).
 *
 * Each wait and each reconnection spends one of the job's automatic retries, as a run that ended and
 * was retried would:
 *   "Host2: automatic retry 2 of this run (reconnecting); 3 left"
 * so the job's count goes up as it happens, and the engine stops once the budget it was given is spent.
 */
const WAITING = /^Host[12]: throttled .*: waiting (\d+(?:\.\d+)?) s in process before trying again$/;
const RESUMED =
  /^Host[12]: waited \d+(?:\.\d+)? s(?: of \d+(?:\.\d+)? s \(resumed on request\))?; trying again$/;
const RETRY_SPENT = /^Host[12]: automatic retry \d+ of this run \(/;

export interface InProcessWaits {
  /** Every engine output line. */
  onLine(line: string): void;
  /** Resolves once the last change was written (before the run's outcome is). */
  settle(): Promise<void>;
  /** Automatic retries the engine spent in this run (already added to the job's count). */
  readonly retriesSpent: number;
  /** Whether the engine is waiting out a throttling server now. */
  readonly waiting: boolean;
}

export function trackInProcessWaits(options: {
  db: Kysely<Database>;
  jobId: number;
  fence: { workerId: string; attempt: number };
  onError(e: unknown): void;
}): InProcessWaits {
  // Writes go one after another, so a "trying again" never lands before its "waiting".
  let chain: Promise<void> = Promise.resolve();
  let retriesSpent = 0;
  // Both sides may wait at once: the job waits until neither does.
  let openWaits = 0;
  function write(change: UpdateObject<Database, "jobs">): void {
    chain = chain.then(async function writeInProcessWait() {
      try {
        await options.db.transaction().execute(async (trx) => {
          const updated = await trx
            .updateTable("jobs")
            .set(change)
            .where("id", "=", options.jobId)
            .where("worker_id", "=", options.fence.workerId)
            .where("attempt", "=", options.fence.attempt)
            .where("status", "=", "running")
            .returning("id")
            .executeTakeFirst();
          if (updated) await notifyJobsChanged(trx, [options.jobId]);
        });
      } catch (e: unknown) {
        options.onError(e);
      }
    });
  }
  return {
    onLine(line) {
      const waiting = WAITING.exec(line);
      if (waiting) {
        openWaits += 1;
        const waitMs = Math.round(Number(waiting[1]) * 1000);
        write({ resume_at: sql<Date>`now() + make_interval(secs => ${waitMs / 1000})` });
      } else if (RESUMED.test(line)) {
        openWaits = Math.max(0, openWaits - 1);
        if (openWaits === 0) write({ resume_at: null });
      } else if (RETRY_SPENT.test(line)) {
        retriesSpent += 1;
        write({ auto_retries: sql<number>`auto_retries + 1` });
      }
    },
    settle: () => chain,
    get retriesSpent() {
      return retriesSpent;
    },
    get waiting() {
      return openWaits > 0;
    },
  };
}
