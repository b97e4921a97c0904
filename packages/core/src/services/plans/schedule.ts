import type { Database } from "@imapferry/db";
import { type Kysely, sql } from "kysely";

/** The graphile-worker task that moves a batch's plan on (see tick.ts). */
export const PLAN_TICK_TASK = "plan_tick";

/**
 * How often a cutover in progress looks whether every final run has ended. Short, because the
 * cutover is the moment an operator watches; it is one indexed count per batch.
 */
export const CUTOVER_CHECK_SECONDS = 5;

function tickKey(batchId: number): string {
  return `imapferry:plan:${batchId}`;
}

/**
 * Schedules the plan's next tick at `at` (a database timestamp expression or value). One entry per
 * batch, keyed: scheduling again replaces the entry, so however many API and worker processes act on
 * a plan, one tick is due at a time, and it survives restarts because it is a row, not a timer.
 */
export async function schedulePlanTick(
  db: Kysely<Database>,
  batchId: number,
  at: Date | "now" | { secondsFromNow: number },
): Promise<void> {
  const runAt =
    at === "now"
      ? sql`now()`
      : at instanceof Date
        ? sql`${at.toISOString()}::timestamptz`
        : sql`now() + make_interval(secs => ${at.secondsFromNow})`;
  await sql`select graphile_worker.add_job(
      ${PLAN_TICK_TASK},
      json_build_object('batchId', ${batchId}::int),
      run_at => ${runAt},
      max_attempts => 25,
      job_key => ${tickKey(batchId)},
      job_key_mode => 'replace'
    )`.execute(db);
}

/** Removes the plan's pending tick (a paused plan does nothing until resumed). */
export async function unschedulePlanTick(db: Kysely<Database>, batchId: number): Promise<void> {
  await sql`select graphile_worker.remove_job(${tickKey(batchId)})`.execute(db);
}
