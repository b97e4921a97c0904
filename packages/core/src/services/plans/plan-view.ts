import type { BatchPlanRow, Database, PlanPhase } from "@imapferry/db";
import type { Kysely } from "kysely";

export type PlanRow = BatchPlanRow;

/** A batch's plan as the API shows it. */
export interface PlanView {
  batchId: number;
  /** active: passes run on schedule · paused · cutting-over: the final pass runs · ended */
  phase: PlanPhase;
  intervalSeconds: number;
  cutoverAt: Date | null;
  deleteOnDestinationAtCutover: boolean;
  /** The first copy took only mail older than this many days; passes take everything. */
  prestageMinAgeDays: number | null;
  /** When the next delta pass starts; null unless the plan is active. */
  nextPassAt: Date | null;
  /** Delta passes run so far (the final pass not counted). */
  passes: number;
  lastPass: { at: Date; queued: number; busy: number } | null;
  cutoverStartedAt: Date | null;
  endedAt: Date | null;
  /** After a cutover: mailboxes whose final run ended done, and those that need attention. */
  outcome: { complete: number; attention: number } | null;
}

export function toPlanView(row: PlanRow): PlanView {
  return {
    batchId: row.batch_id,
    phase: row.phase,
    intervalSeconds: row.interval_seconds,
    cutoverAt: row.cutover_at,
    deleteOnDestinationAtCutover: row.delete_on_destination_at_cutover,
    prestageMinAgeDays: row.prestage_min_age_days,
    nextPassAt: row.phase === "active" ? row.next_pass_at : null,
    passes: row.passes,
    lastPass:
      row.last_pass_at === null
        ? null
        : { at: row.last_pass_at, queued: row.last_pass_queued ?? 0, busy: row.last_pass_busy ?? 0 },
    cutoverStartedAt: row.cutover_started_at,
    endedAt: row.ended_at,
    outcome:
      row.complete_count === null
        ? null
        : { complete: row.complete_count, attention: row.attention_count ?? 0 },
  };
}

export async function readPlan(
  db: Kysely<Database>,
  batchId: number,
  lock = false,
): Promise<PlanRow | undefined> {
  let q = db.selectFrom("batch_plans").selectAll().where("batch_id", "=", batchId);
  if (lock) q = q.forUpdate();
  return q.executeTakeFirst();
}
