import type { Database, JobStatus } from "@imapferry/db";
import { type Kysely, sql } from "kysely";
import { type RerunOverrides, rerunBatchRunsIn } from "../jobs/bulk.ts";
import { queueCutoverNotification } from "../notifications/queue.ts";
import { recordPlanCutoverEvent } from "../webhooks/events.ts";
import { type PlanRow, readPlan } from "./plan-view.ts";
import { CUTOVER_CHECK_SECONDS, schedulePlanTick } from "./schedule.ts";

type Db = Kysely<Database>;

/**
 * What a delta pass runs again: each mailbox whose latest run has ended, however it ended, except
 * those an operator cancelled (a plan does not overrule a human's stop).
 */
const PASS_STATUSES = ["done", "incomplete", "failed", "interrupted"] as const satisfies JobStatus[];

/** Latest runs still going: a pass leaves their mailboxes alone rather than giving them a second run. */
const BUSY_STATUSES = ["queued", "running", "waiting", "awaiting_credentials"] as const satisfies JobStatus[];

/** What a pass changes in the runs it copies: after a pre-stage, the age filter goes. */
function passOptions(plan: PlanRow): RerunOverrides {
  return plan.prestage_min_age_days === null ? {} : { unsetOptions: ["minAgeDays"] };
}

/** When the plan should next be looked at: its next pass, or its cutover if that comes first. */
function nextTickAt(plan: Pick<PlanRow, "next_pass_at" | "cutover_at">): Date | null {
  const times = [plan.next_pass_at, plan.cutover_at].filter((t): t is Date => t !== null);
  return times.length === 0 ? null : new Date(Math.min(...times.map((t) => t.getTime())));
}

export async function scheduleNextTick(db: Db, plan: PlanRow): Promise<void> {
  const at = nextTickAt(plan);
  if (at !== null) await schedulePlanTick(db, plan.batch_id, at);
}

async function countBusy(db: Db, batchId: number): Promise<number> {
  const row = await db
    .selectFrom("jobs")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("batch_id", "=", batchId)
    .where("deleted_at", "is", null)
    .where("superseded_by", "is", null)
    .where("status", "in", BUSY_STATUSES)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * One delta pass: every mailbox whose latest run has ended runs again (a real run, resuming from
 * what is on the destination); the pass and the next one's time are recorded in the same transaction
 * as the new runs, so a crash leaves either the whole pass or none of it.
 */
async function runDeltaPass(trx: Db, plan: PlanRow): Promise<PlanRow> {
  const busy = await countBusy(trx, plan.batch_id);
  const reruns = await rerunBatchRunsIn(trx, plan.batch_id, { statuses: PASS_STATUSES }, passOptions(plan));
  const queued = reruns.filter((r) => r.ok).length;
  return trx
    .updateTable("batch_plans")
    .set({
      passes: sql<number>`passes + 1`,
      last_pass_at: sql<Date>`now()`,
      last_pass_queued: queued,
      last_pass_busy: busy,
      next_pass_at: sql<Date>`now() + make_interval(secs => interval_seconds)`,
      updated_at: sql<Date>`now()`,
    })
    .where("batch_id", "=", plan.batch_id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * The cutover begins: from now on, a mailbox is finished only by a run created after this moment (a
 * run that started earlier may have missed mail that arrived while it ran). Mailboxes whose latest run
 * has ended get that final run now; the others get it when their current run ends (checkCutover).
 */
export async function beginCutover(trx: Db, plan: PlanRow): Promise<PlanRow> {
  const started = await trx
    .updateTable("batch_plans")
    .set({
      phase: "cutting-over",
      cutover_started_at: sql<Date>`now()`,
      next_pass_at: null,
      updated_at: sql<Date>`now()`,
    })
    .where("batch_id", "=", plan.batch_id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return checkCutover(trx, started);
}

/**
 * A cutover in progress: queues the final run of each mailbox whose latest run ended before the
 * cutover began, and ends the plan once every mailbox's final run has ended (cancelled mailboxes
 * count as needing attention without a final run). Otherwise looks again shortly.
 */
async function checkCutover(trx: Db, plan: PlanRow): Promise<PlanRow> {
  await rerunBatchRunsIn(
    trx,
    plan.batch_id,
    { statuses: PASS_STATUSES, createdBefore: plan.cutover_started_at ?? new Date() },
    {
      ...passOptions(plan),
      ...(plan.delete_on_destination_at_cutover ? { setOptions: { deleteOnDestination: true } } : {}),
    },
  );
  const tally = await sql<{ pending: string; complete: string; attention: string }>`
    select count(*) filter (where status in ('queued', 'running', 'waiting', 'awaiting_credentials')) as pending,
           count(*) filter (where status = 'done' and not dry_run) as complete,
           count(*) filter (where status not in ('queued', 'running', 'waiting', 'awaiting_credentials')
                              and (status <> 'done' or dry_run)) as attention
    from jobs
    where batch_id = ${plan.batch_id} and deleted_at is null and superseded_by is null`.execute(trx);
  const counts = tally.rows[0] ?? { pending: "0", complete: "0", attention: "0" };
  if (Number(counts.pending) > 0) {
    await schedulePlanTick(trx, plan.batch_id, { secondsFromNow: CUTOVER_CHECK_SECONDS });
    return plan;
  }
  const ended = await trx
    .updateTable("batch_plans")
    .set({
      phase: "ended",
      ended_at: sql<Date>`now()`,
      complete_count: Number(counts.complete),
      attention_count: Number(counts.attention),
      updated_at: sql<Date>`now()`,
    })
    .where("batch_id", "=", plan.batch_id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await queueCutoverNotification(trx, plan.batch_id);
  await recordPlanCutoverEvent(trx, ended);
  return ended;
}

/**
 * What the plan's tick does when it comes: a pass when one is due, the cutover when its time has
 * come, the next check of a cutover in progress; nothing for a paused or ended plan. Decided under
 * the plan's row lock against the database clock, so a tick that runs twice, early or late, or in two
 * processes at once, never runs a pass twice.
 */
export async function tickPlan(db: Db, batchId: number): Promise<PlanRow | undefined> {
  return db.transaction().execute(async function planTick(trx) {
    const plan = await readPlan(trx, batchId, true);
    if (!plan) return undefined;
    const now = (await sql<{ now: Date }>`select now() as now`.execute(trx)).rows[0]?.now ?? new Date();
    if (plan.phase === "cutting-over") return checkCutover(trx, plan);
    if (plan.phase !== "active") return plan;
    if (plan.cutover_at !== null && plan.cutover_at <= now) return beginCutover(trx, plan);
    const updated =
      plan.next_pass_at !== null && plan.next_pass_at <= now ? await runDeltaPass(trx, plan) : plan;
    await scheduleNextTick(trx, updated);
    return updated;
  });
}
