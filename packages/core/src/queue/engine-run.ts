import type { Verification } from "@imapferry/db";
import type { ParsedEvent } from "../engines/imapsync/parser.ts";
import { preflight } from "../engines/preflight.ts";
import type { EngineStateChannel } from "../engines/run-engine.ts";
import { engineNotExecuted, runMigrationEngine } from "../engines/run-engine.ts";
import type { ResolvedEngine } from "../engines/select-engine.ts";
import type { MigrationSpec } from "../engines/types.ts";
import type { FolderProofs } from "../engines/verification/folder-proof.ts";
import type { CopyLedgers } from "../engines/verification/ledger-check.ts";
import type { CheckSession } from "../engines/verification/verify-migration.ts";
import { openCheckSession, verifyMigration } from "../engines/verification/verify-migration.ts";
import type { EngineRunCategory } from "./failure-category.ts";

export interface EngineRunResult {
  exitCode: number | null;
  /** "ok" for a clean run; otherwise the exit category ("source-auth", "over-quota", "cancelled", …). */
  category: EngineRunCategory;
  sentence: string;
  stats: Record<string, unknown> | null;
  /** Ended on something that passes (a dropped connection, throttling): the job may retry by itself. */
  passing?: { waitMs: number | null };
}

export interface EngineRunInput {
  spec: MigrationSpec;
  signal: AbortSignal;
  onLine(line: string): void;
  onEvent(event: ParsedEvent): void;
  /** Called once the engine process exists (dispatch latency is measured up to here). */
  onSpawn?(pid: number, argv: readonly string[]): void;
  /** The built-in engine's incremental sync state (ignored by imapsync, which keeps none). */
  stateChannel?: EngineStateChannel;
}

export interface PreflightTotals {
  messages: number | null;
  bytes: number | null;
}

/** How the job system runs one migration; the default spawns the configured engine. */
export interface EngineRunner {
  run(input: EngineRunInput): Promise<EngineRunResult>;
  /** Totals for the progress bar, before the engine starts; null when they cannot be had. */
  preflight?(spec: MigrationSpec, signal: AbortSignal): Promise<PreflightTotals | null>;
  /**
   * The check after a real run (see engines/verification): what is on the destination against the
   * source. Throws VerificationFailed when it cannot be done.
   */
  verify?(
    spec: MigrationSpec,
    input: {
      errorLines: string[];
      signal: AbortSignal;
      proofs?: FolderProofs;
      ledgers?: CopyLedgers;
    },
  ): Promise<Verification>;
  /** The same check on connections kept open for several checks (see CheckSession). */
  openCheck?(spec: MigrationSpec, options: { connectionPairs?: number }): Promise<CheckSession>;
}

/**
 * The configured engine (imapsync or the built-in one) through the engines' runner: no shell,
 * passwords only in the child's environment, cancel by process group. Preflight counts the source
 * folders with IMAP STATUS, one short session before the engine's own.
 */
export function defaultEngineRunner(
  engine: ResolvedEngine,
  options: { onSpawn?: (pid: number, argv: readonly string[]) => void } = {},
): EngineRunner {
  return {
    async run(input) {
      const result = await runMigrationEngine({
        engine,
        spec: input.spec,
        signal: input.signal,
        onLine: (line) => input.onLine(line),
        onEvent: (event) => input.onEvent(event),
        ...(input.stateChannel ? { stateChannel: input.stateChannel } : {}),
        onSpawn: (pid, argv) => {
          input.onSpawn?.(pid, argv);
          options.onSpawn?.(pid, argv);
        },
      });
      if (engineNotExecuted(result)) {
        return {
          exitCode: result.exitCode,
          category: "engine-missing",
          sentence: `The engine (${engine.bin}) could not be started on this worker. Install it or set IMAPSYNC_BIN.`,
          stats: null,
        };
      }
      return {
        exitCode: result.exitCode,
        category: result.cancelled ? "cancelled" : result.category,
        sentence: result.sentence,
        ...(result.passing && !result.cancelled ? { passing: result.passing } : {}),
        stats: result.stats
          ? { ...result.stats, errorLines: result.errors, durationMs: result.durationMs }
          : null,
      };
    },
    async preflight(spec, signal) {
      const options = spec.options as { folders?: string[]; excludeFolders?: string[] };
      const result = await preflight(spec.source, spec.source, {
        signal,
        timeoutMs: 15_000,
        ...(options.folders ? { folders: options.folders } : {}),
        ...(options.excludeFolders ? { excludeFolders: options.excludeFolders } : {}),
      });
      return { messages: result.totalMessages, bytes: result.totalBytes };
    },
    verify(spec, input) {
      return verifyMigration({
        spec,
        engine: engine.kind,
        errorLines: input.errorLines,
        signal: input.signal,
        ...(input.proofs ? { proofs: input.proofs } : {}),
        ...(input.ledgers ? { ledgers: input.ledgers } : {}),
      });
    },
    openCheck(spec, options) {
      return openCheckSession({ spec, engine: engine.kind, ...options });
    },
  };
}
