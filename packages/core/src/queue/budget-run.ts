import type { JobRow, ServerRow } from "@imapferry/db";
import type { ServiceContext } from "../context.ts";
import type { MigrationSpec } from "../engines/types.ts";
import { type RemainingBudget, remainingBudget } from "../services/budgets/account-usage.ts";
import { budgetWindowAt } from "../services/budgets/budget-window.ts";
import type { Outcome } from "./decide-outcome.ts";
import type { EngineRunResult } from "./engine-run.ts";

/**
 * A server's per-account limits applied to one run: the engine stops at the tightest byte budget
 * left in the current window (imapsync and the built-in engine both take --exitwhenover), and opens
 * no more connections per account than the servers allow.
 */
export interface RunBudget {
  remaining: RemainingBudget;
  /** The --exitwhenover this run got from the budget (below the job's own stopAfterBytes); null: none. */
  stopAfterBytes: number | null;
}

export async function planRunBudget(
  ctx: Pick<ServiceContext, "db">,
  job: JobRow,
  source: ServerRow,
  destination: ServerRow,
  windowSeconds: number,
): Promise<RunBudget> {
  const remaining = await remainingBudget(ctx.db, job, source, destination, windowSeconds);
  const own = Number((job.options as { stopAfterBytes?: unknown } | null)?.stopAfterBytes ?? Number.NaN);
  const stopAfterBytes =
    remaining.bytes !== null && remaining.bytes > 0 && !(own <= remaining.bytes) ? remaining.bytes : null;
  return { remaining, stopAfterBytes };
}

/**
 * The engine's connection cap per account: the setting (`connectionsPerAccount`), lowered by either
 * server's own cap. imapsync holds one connection per side whatever it is given.
 */
export function connectionCap(perAccount: number, source: ServerRow, destination: ServerRow): number {
  const caps = [source.max_connections, destination.max_connections].filter((c): c is number => c !== null);
  return Math.min(perAccount, ...caps);
}

/** The spec with the run's byte budget in it. */
export function specWithinBudget(spec: MigrationSpec, budget: RunBudget): MigrationSpec {
  return budget.stopAfterBytes === null
    ? spec
    : { ...spec, options: { ...spec.options, stopAfterBytes: budget.stopAfterBytes } };
}

/** Whether the engine stopped because it reached the budget's --exitwhenover (not the job's own). */
export function stoppedAtBudget(result: EngineRunResult | null, budget: RunBudget | null): boolean {
  return result?.category === "transfer-limit" && budget !== null && budget.stopAfterBytes !== null;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toLocaleString("en-US", { maximumFractionDigits: 1 })} MB`;
}

/**
 * The run's outcome when an account has no budget left: waiting until the window resets, without
 * counting as an automatic retry (the mailbox is meant to be spread over windows).
 */
export function budgetWaitOutcome(
  budget: RunBudget,
  job: Pick<JobRow, "source_email" | "dest_email" | "auto_retries">,
  names: { source: string; destination: string },
  windowSeconds: number,
  base: Pick<Outcome, "exitCode" | "stats"> = { exitCode: null, stats: null },
  now = new Date(),
): Outcome {
  const limit = budget.remaining.limitedBy;
  // The window the run ends in (it may have started in the one before): its usage is counted there.
  const resumeAt = budgetWindowAt(now, windowSeconds).end;
  const at = resumeAt
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");
  const who = limit
    ? limit.side === "source"
      ? `The source account ${job.source_email} on ${names.source} reached its download budget of ${megabytes(limit.budgetBytes)} per window`
      : `The destination account ${job.dest_email} on ${names.destination} reached its upload budget of ${megabytes(limit.budgetBytes)} per window`
    : "An account reached its budget";
  return {
    status: "waiting",
    exitCode: base.exitCode,
    category: "daily-budget",
    sentence: `${who}. The migration resumes by itself at ${at}, when the window resets; what was copied stays and is not copied again.`,
    stats: base.stats,
    retry: {
      waitMs: Math.max(0, resumeAt.getTime() - now.getTime()),
      retry: job.auto_retries,
      counted: false,
      resumeAt,
    },
  };
}

/** Bytes a run copied, from the engine's statistics (both engines print imapsync's block). */
export function bytesCopied(stats: Record<string, unknown> | null | undefined): number {
  const bytes = Number(stats?.bytesTransferred ?? 0);
  return Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
}
