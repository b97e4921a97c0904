import { errorMessage } from "../errors.ts";
import type { EngineRunResult } from "./engine-run.ts";
import type { RunOutcomeCategory } from "./failure-category.ts";
import { WorkerKeyError } from "./worker-key-error.ts";

/**
 * Why a run was stopped from outside: an operator's cancel, a lease another worker took ("lost"), a
 * lease this worker could not renew in time ("lease"), or the worker handing it back.
 */
export type RunStopReason = "cancel" | "lost" | "lease" | "handback";

/** What a finished run writes to its job row. */
export interface Outcome {
  status: "done" | "failed" | "cancelled";
  exitCode: number | null;
  category: RunOutcomeCategory;
  sentence: string | null;
  stats: Record<string, unknown> | null;
}

/**
 * The job's outcome from what the engine reported (null: it never ran) and why the run was stopped
 * from outside, if it was. An operator's cancel wins over whatever the engine then exited with.
 */
export function decideOutcome(result: EngineRunResult | null, stopReason: RunStopReason | null): Outcome {
  if (stopReason === "cancel" || (result === null && stopReason === null)) {
    return {
      status: "cancelled",
      exitCode: result?.exitCode ?? null,
      category: "cancelled",
      sentence:
        result?.category === "cancelled"
          ? result.sentence
          : "Cancelled; what was already copied stays on the destination.",
      stats: result?.stats ?? null,
    };
  }
  if (result) {
    const ok = result.exitCode === 0;
    return {
      status: ok ? "done" : "failed",
      exitCode: result.exitCode,
      category: result.category,
      sentence: ok ? null : result.sentence,
      stats: result.stats,
    };
  }
  // Stopped before the engine ran because the lease was lost or could not be renewed, or the worker
  // hands the job back: the caller records nothing of this outcome.
  return { status: "cancelled", exitCode: null, category: "cancelled", sentence: null, stats: null };
}

/** The job's outcome when the run threw before the engine could report one. */
export function outcomeOfRunError(e: unknown): Outcome {
  if (e instanceof WorkerKeyError) {
    return { status: "failed", exitCode: null, category: "worker-key", sentence: e.message, stats: null };
  }
  return {
    status: "failed",
    exitCode: null,
    category: "engine",
    sentence: `The migration could not be run on this worker: ${errorMessage(e)}`,
    stats: null,
  };
}
