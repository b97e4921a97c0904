import type { Database } from "@imapferry/db";
import { type Kysely, sql } from "kysely";
import type { ServiceContext } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import { relayerOptions } from "../jobs/relayer-options.ts";
import { getSettings } from "../settings/settings.ts";
import { parseInput } from "../validation.ts";
import { beginCutover, scheduleNextTick } from "./passes.ts";
import { type PlanRow, type PlanView, readPlan, toPlanView } from "./plan-view.ts";
import { unschedulePlanTick } from "./schedule.ts";
import { planBatchInputSchema, setPlanInputSchema } from "./schemas.ts";

type Ctx = Pick<ServiceContext, "db">;

/** "every 2 hours", "every 90 seconds": an interval as an operator reads it. */
export function describeInterval(seconds: number): string {
  const units: [number, string][] = [
    [86_400, "day"],
    [3600, "hour"],
    [60, "minute"],
  ];
  for (const [size, name] of units) {
    if (seconds % size === 0) {
      const n = seconds / size;
      return n === 1 ? `every ${name}` : `every ${n} ${name}s`;
    }
  }
  return seconds === 1 ? "every second" : `every ${seconds} seconds`;
}

function phaseSentence(batchId: number, plan: PlanRow): string {
  switch (plan.phase) {
    case "cutting-over":
      return `Batch ${batchId} is cutting over; its plan cannot change until the final pass has ended.`;
    case "ended":
      return `The plan of batch ${batchId} has ended with its cutover.`;
    case "paused":
      return `The plan of batch ${batchId} is paused.`;
    default:
      return `The plan of batch ${batchId} is active.`;
  }
}

async function requirePlan(ctx: Ctx, batchId: number, lock = false): Promise<PlanRow> {
  const plan = await readPlan(ctx.db, batchId, lock);
  if (!plan) throw new ImapferryError("NOT_FOUND", `Batch ${batchId} has no plan. Set one first.`);
  return plan;
}

/**
 * The pre-stage: the batch's runs that have not started, and jobs added to it later, copy only mail
 * older than `days` (the bulk of each mailbox, days ahead of the cutover). Every pass drops the filter.
 */
async function prestage(trx: Kysely<Database>, batchId: number, days: number): Promise<void> {
  const filter = JSON.stringify({ minAgeDays: days });
  await trx
    .updateTable("batches")
    .set({ defaults: sql`defaults || ${filter}::jsonb` })
    .where("id", "=", batchId)
    .execute();
  const waiting = await trx
    .selectFrom("jobs")
    .select("id")
    .where("batch_id", "=", batchId)
    .where("status", "=", "queued")
    .where("started_at", "is", null)
    .where("deleted_at", "is", null)
    .execute();
  await relayerOptions(
    trx,
    waiting.map((j) => j.id),
  );
}

/**
 * Gives a batch a plan, or changes its plan: delta passes (a real run of every mailbox whose last run
 * ended) every `intervalSeconds`, until the cutover (at `cutoverAt`, or when cutOverPlan is called).
 * The first pass comes one interval after the plan is set; a changed plan keeps counting from its
 * last pass. Refused for a dry-run batch, an interval under the planMinIntervalSeconds setting, a
 * cutover time already past, and a plan that is cutting over.
 */
export async function setPlan(ctx: Ctx, input: unknown): Promise<PlanView> {
  const v = parseInput(setPlanInputSchema, input, "plan");
  const settings = await getSettings(ctx);
  if (v.intervalSeconds < settings.planMinIntervalSeconds) {
    throw new ImapferryError(
      "BAD_INPUT",
      `Delta passes can run at most ${describeInterval(settings.planMinIntervalSeconds)} (the planMinIntervalSeconds setting); ${describeInterval(v.intervalSeconds)} is too often.`,
      [{ path: ["intervalSeconds"], message: `at least ${settings.planMinIntervalSeconds}` }],
    );
  }
  const cutoverAt = v.cutoverAt ? new Date(v.cutoverAt) : null;
  return ctx.db.transaction().execute(async function storePlan(trx) {
    const batch = await trx
      .selectFrom("batches")
      .select(["id", "dry_run"])
      .where("id", "=", v.batchId)
      .forUpdate()
      .executeTakeFirst();
    if (!batch) throw new ImapferryError("NOT_FOUND", `There is no batch ${v.batchId}.`);
    if (batch.dry_run) {
      throw new ImapferryError(
        "BAD_INPUT",
        `Batch ${v.batchId} is a dry run, which copies nothing: run it real before planning delta passes.`,
        [{ path: ["batchId"], message: "dry-run batch" }],
      );
    }
    const now = (await sql<{ now: Date }>`select now() as now`.execute(trx)).rows[0]?.now ?? new Date();
    if (cutoverAt !== null && cutoverAt <= now) {
      throw new ImapferryError(
        "BAD_INPUT",
        `The cutover time ${cutoverAt.toISOString()} has already passed. Give a time in the future, or cut over now.`,
        [{ path: ["cutoverAt"], message: "in the past" }],
      );
    }
    const existing = await readPlan(trx, v.batchId, true);
    if (existing?.phase === "cutting-over") {
      throw new ImapferryError("CONFLICT", phaseSentence(v.batchId, existing));
    }
    // A changed plan keeps its rhythm (the next pass one interval after the last); a new one, or one
    // set again after its cutover, starts counting now.
    const keepsRhythm = existing !== undefined && existing.phase !== "ended";
    const from = keepsRhythm ? (existing.last_pass_at ?? existing.created_at) : now;
    const nextPassAt = new Date(Math.max(now.getTime(), from.getTime() + v.intervalSeconds * 1000));
    const fresh = {
      interval_seconds: v.intervalSeconds,
      cutover_at: cutoverAt,
      delete_on_destination_at_cutover: v.deleteOnDestinationAtCutover,
      phase: keepsRhythm ? existing.phase : ("active" as const),
      next_pass_at: nextPassAt,
      updated_at: now,
    };
    if (
      keepsRhythm &&
      v.prestageMinAgeDays != null &&
      v.prestageMinAgeDays !== existing.prestage_min_age_days
    ) {
      throw new ImapferryError(
        "BAD_INPUT",
        `The pre-stage is part of a plan's first copy, which batch ${v.batchId} has had: it cannot change now.`,
        [{ path: ["prestageMinAgeDays"], message: "the plan has started" }],
      );
    }
    const restart = keepsRhythm
      ? {}
      : {
          prestage_min_age_days: v.prestageMinAgeDays ?? null,
          passes: 0,
          last_pass_at: null,
          last_pass_queued: null,
          last_pass_busy: null,
          cutover_started_at: null,
          ended_at: null,
          complete_count: null,
          attention_count: null,
          created_at: now,
        };
    const row = await trx
      .insertInto("batch_plans")
      .values({ batch_id: v.batchId, ...fresh, ...restart })
      .onConflict((oc) => oc.column("batch_id").doUpdateSet({ ...fresh, ...restart }))
      .returningAll()
      .executeTakeFirstOrThrow();
    if (!keepsRhythm && v.prestageMinAgeDays != null) await prestage(trx, v.batchId, v.prestageMinAgeDays);
    if (row.phase === "active") await scheduleNextTick(trx, row);
    return toPlanView(row);
  });
}

/** The batch's plan, or null when it has none. */
export async function getPlan(ctx: Ctx, input: unknown): Promise<PlanView | null> {
  const { batchId } = parseInput(planBatchInputSchema, input, "plan");
  const plan = await readPlan(ctx.db, batchId);
  return plan ? toPlanView(plan) : null;
}

/** Stops the passes (a running pass goes on); resumePlan starts them again. */
export async function pausePlan(ctx: Ctx, input: unknown): Promise<PlanView> {
  const { batchId } = parseInput(planBatchInputSchema, input, "plan");
  return ctx.db.transaction().execute(async function pause(trx) {
    const plan = await requirePlan({ db: trx }, batchId, true);
    if (plan.phase !== "active") {
      throw new ImapferryError(
        "CONFLICT",
        `${phaseSentence(batchId, plan)} Only an active plan can be paused.`,
      );
    }
    const row = await trx
      .updateTable("batch_plans")
      .set({ phase: "paused", updated_at: sql<Date>`now()` })
      .where("batch_id", "=", batchId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await unschedulePlanTick(trx, batchId);
    return toPlanView(row);
  });
}

/**
 * Starts a paused plan's passes again: a pass that fell due while it was paused runs at once. Refused
 * when the planned cutover time passed meanwhile: cutting over unannounced (perhaps deleting on the
 * destination) is the operator's decision, not the resume button's.
 */
export async function resumePlan(ctx: Ctx, input: unknown): Promise<PlanView> {
  const { batchId } = parseInput(planBatchInputSchema, input, "plan");
  return ctx.db.transaction().execute(async function resume(trx) {
    const plan = await requirePlan({ db: trx }, batchId, true);
    if (plan.phase !== "paused") {
      throw new ImapferryError(
        "CONFLICT",
        `${phaseSentence(batchId, plan)} Only a paused plan can be resumed.`,
      );
    }
    const row = await trx
      .updateTable("batch_plans")
      .set({
        phase: "active",
        next_pass_at: sql<Date>`greatest(coalesce(next_pass_at, now()), now())`,
        updated_at: sql<Date>`now()`,
      })
      .where("batch_id", "=", batchId)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (row.cutover_at !== null && row.cutover_at <= row.updated_at) {
      throw new ImapferryError(
        "CONFLICT",
        `The planned cutover (${row.cutover_at.toISOString()}) passed while the plan of batch ${batchId} was paused. Cut over now, or set a new cutover time.`,
      );
    }
    await scheduleNextTick(trx, row);
    return toPlanView(row);
  });
}

/**
 * Cuts over now: one final pass for every mailbox (a run created from this moment, after each current
 * run has ended), the check after each, then a summary; the plan then ends.
 */
export async function cutOverPlan(ctx: Ctx, input: unknown): Promise<PlanView> {
  const { batchId } = parseInput(planBatchInputSchema, input, "plan");
  return ctx.db.transaction().execute(async function cutOver(trx) {
    const plan = await requirePlan({ db: trx }, batchId, true);
    if (plan.phase === "cutting-over" || plan.phase === "ended") {
      throw new ImapferryError(
        "CONFLICT",
        plan.phase === "ended"
          ? `${phaseSentence(batchId, plan)} Set a new plan to run more passes.`
          : `Batch ${batchId} is already cutting over.`,
      );
    }
    return toPlanView(await beginCutover(trx, plan));
  });
}
