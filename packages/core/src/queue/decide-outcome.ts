import type { Verification } from "@imapferry/db";
import { errorMessage } from "../errors.ts";
import { DeniedHostError } from "../net/deny-hosts.ts";
import { TokenEndpointError } from "../oauth2/token-request.ts";
import { MissingCredentialsError } from "../services/servers/admin-credentials.ts";
import type { EngineRunResult } from "./engine-run.ts";
import type { RunOutcomeCategory } from "./failure-category.ts";
import type { RetryPlan } from "./retry-policy.ts";
import { WorkerKeyError } from "./worker-key-error.ts";

/**
 * Why a run was stopped from outside: an operator's cancel, a lease another worker took ("lost"), a
 * lease this worker could not renew in time ("lease"), or the worker handing it back.
 */
export type RunStopReason = "cancel" | "lost" | "lease" | "handback";

/** What a finished run writes to its job row. */
export interface Outcome {
  status: "done" | "incomplete" | "failed" | "cancelled" | "waiting";
  exitCode: number | null;
  category: RunOutcomeCategory;
  sentence: string | null;
  stats: Record<string, unknown> | null;
  /** What the check after a real run found; null when none ran. */
  verification?: Verification | null;
  /** A failure that passes (see EngineRunResult.passing): the retry policy may make the job wait. */
  passing?: { waitMs: number | null };
  /** Set with status "waiting": when the job resumes by itself (see retry-policy.ts). */
  retry?: RetryPlan;
}

/** The check after a real run: what it found, or why it could not run. */
export type VerificationCheck = { verification: Verification } | { error: string };

/**
 * Engine exits after which the run went through the mailbox and only some messages may be missing:
 * worth checking, and "incomplete" rather than "failed" when the check finds mail missing.
 */
export const MESSAGE_LEVEL_CATEGORIES: ReadonlySet<RunOutcomeCategory> = new Set([
  "ok",
  "over-quota",
  "append",
  "fetch",
  "create",
  "select",
  "errors",
  "errors-max",
  "transfer-limit",
  "virus",
  "flags",
]);

/** Whether a run that ended this way gets the check after it. */
export function needsVerification(result: EngineRunResult | null, stopReason: RunStopReason | null): boolean {
  return result !== null && stopReason === null && MESSAGE_LEVEL_CATEGORIES.has(result.category);
}

/** "3 of 48 messages are not on the destination: 2 over maxMessageBytes, 1 refused by the destination." */
export function missingSentence(verification: Verification): string {
  const reasons = Object.entries(verification.reasons)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, count]) => `${count} ${reason}`)
    .join(", ");
  const noun = verification.sourceMessages === 1 ? "message" : "messages";
  return `${verification.missing} of ${verification.sourceMessages} ${noun} ${verification.missing === 1 ? "is" : "are"} not on the destination: ${reasons}. The job page lists them by folder.`;
}

/**
 * A dry run's answer in a real run's terms: "Would copy 42, 6 already there, 0 cannot be copied."
 * `cannotCopy` counts what the engine said it would skip for good (no identity, size limits).
 */
export function dryRunSentence(stats: Record<string, unknown> | null): string | null {
  if (!stats) return null;
  const would = Number(stats.messagesWouldTransfer ?? 0);
  const skipped = Number(stats.messagesSkipped ?? 0);
  const cannot = (stats.cannotCopy ?? {}) as Record<string, number>;
  const cannotTotal = Object.values(cannot).reduce((a, b) => a + Number(b), 0);
  const there = Math.max(0, skipped - cannotTotal);
  const reasons = Object.entries(cannot)
    .filter(([, n]) => Number(n) > 0)
    .map(([reason, n]) => `${n} ${reason}`)
    .join(", ");
  return `Would copy ${would}, ${there} already there, ${cannotTotal} cannot be copied${reasons ? `: ${reasons}` : ""}.`;
}

/**
 * The job's outcome from what the engine reported (null: it never ran), why the run was stopped
 * from outside, if it was, and what the check after a real run found. An operator's cancel wins over
 * whatever the engine then exited with. A run ends done only when the check found every source
 * message in scope on the destination; mail missing makes it incomplete, with the reasons.
 */
export function decideOutcome(
  result: EngineRunResult | null,
  stopReason: RunStopReason | null,
  check: VerificationCheck | null = null,
  dryRun = false,
): Outcome {
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
    const engineSaid: Outcome = {
      status: ok ? "done" : "failed",
      exitCode: result.exitCode,
      category: result.category,
      sentence: ok ? null : result.sentence,
      stats: result.stats,
      ...(!ok && result.passing ? { passing: result.passing } : {}),
    };
    if (!check) return ok && dryRun ? { ...engineSaid, sentence: dryRunSentence(result.stats) } : engineSaid;
    if ("error" in check) {
      // Done means checked: without a check, nobody can say the destination holds everything.
      return ok
        ? {
            ...engineSaid,
            status: "incomplete",
            category: "unverified",
            sentence: `The copy finished, but its check ${check.error}. Run the job again to check it.`,
            verification: null,
          }
        : engineSaid;
    }
    const { verification } = check;
    if (verification.missing === 0) return { ...engineSaid, verification };
    return {
      ...engineSaid,
      status: "incomplete",
      category: ok ? "incomplete" : result.category,
      sentence: ok ? missingSentence(verification) : `${missingSentence(verification)} ${result.sentence}`,
      verification,
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
  if (e instanceof MissingCredentialsError) {
    const category = e.side === "source" ? "source-auth" : "destination-auth";
    return { status: "failed", exitCode: null, category, sentence: e.message, stats: null };
  }
  if (e instanceof TokenEndpointError) {
    // Its own category: the mailbox and the server were never asked; the provider said no (or nothing).
    return {
      status: "failed",
      exitCode: null,
      category: "oauth2-token",
      sentence: e.message,
      stats: null,
      ...(e.passing ? { passing: { waitMs: null } } : {}),
    };
  }
  if (e instanceof DeniedHostError) {
    return { status: "failed", exitCode: null, category: "denied-host", sentence: e.message, stats: null };
  }
  return {
    status: "failed",
    exitCode: null,
    category: "engine",
    sentence: `The migration could not be run on this worker: ${errorMessage(e)}`,
    stats: null,
  };
}
