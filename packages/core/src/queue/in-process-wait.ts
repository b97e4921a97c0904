import type { Database } from "@imapferry/db";
import { type Kysely, sql } from "kysely";
import { notifyJobsChanged } from "../services/jobs/job-events.ts";

/*
 * The built-in engine waits out a short suggested backoff in its own process (imapflow holds the
 * throttled command and tries again), and says so in its output:
 *   "Host1: throttled (…Suggested Backoff Time: 4000 milliseconds): waiting 4.0 s in process before trying again"
 *   "Host1: waited 4.0 s; trying again"
 * While it waits, the job shows waiting with its resume time (the row keeps status running, so the
 * lease, the fence and recovery stay as they are; the views and events read running + resume_at as
 * waiting). Longer waits are not spent in process: the engine ends the run and the retry policy hands
 * the job back to the queue (see engines/builtin/throttle-waits.ts).
 */
const WAITING = /^Host[12]: throttled .*: waiting (\d+(?:\.\d+)?) s in process before trying again$/;
const RESUMED = /^Host[12]: waited \d+(?:\.\d+)? s; trying again$/;

export interface InProcessWaits {
  /** Every engine output line. */
  onLine(line: string): void;
  /** Resolves once the last change was written (before the run's outcome is). */
  settle(): Promise<void>;
}

export function trackInProcessWaits(options: {
  db: Kysely<Database>;
  jobId: number;
  fence: { workerId: string; attempt: number };
  onError(e: unknown): void;
}): InProcessWaits {
  // Writes go one after another, so a "trying again" never lands before its "waiting".
  let chain: Promise<void> = Promise.resolve();
  function setResumeAt(waitMs: number | null): void {
    chain = chain.then(async function writeInProcessWait() {
      try {
        await options.db.transaction().execute(async (trx) => {
          const updated = await trx
            .updateTable("jobs")
            .set({
              resume_at: waitMs === null ? null : sql<Date>`now() + make_interval(secs => ${waitMs / 1000})`,
            })
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
      if (waiting) setResumeAt(Math.round(Number(waiting[1]) * 1000));
      else if (RESUMED.test(line)) setResumeAt(null);
    },
    settle: () => chain,
  };
}
