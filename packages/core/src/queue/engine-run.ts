import { existsSync } from "node:fs";
import { buildImapsyncArgs, engineEnv } from "../engines/imapsync/args.ts";
import type { ParsedEvent } from "../engines/imapsync/parser.ts";
import { preflight } from "../engines/preflight.ts";
import { runEngine } from "../engines/run-engine.ts";
import type { ResolvedEngine } from "../engines/select-engine.ts";
import type { MigrationSpec } from "../engines/types.ts";
import type { EngineRunCategory } from "./failure-category.ts";

export interface EngineRunResult {
  exitCode: number | null;
  /** "ok" for a clean run; otherwise the exit category ("source-auth", "over-quota", "cancelled", …). */
  category: EngineRunCategory;
  sentence: string;
  stats: Record<string, unknown> | null;
}

export interface EngineRunInput {
  spec: MigrationSpec;
  signal: AbortSignal;
  onLine(line: string): void;
  onEvent(event: ParsedEvent): void;
  /** Called once the engine process exists (dispatch latency is measured up to here). */
  onSpawn?(pid: number): void;
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
}

/**
 * The configured engine (imapsync or the built-in one) through the engines' runner: no shell,
 * passwords only in the child's environment, cancel by process group. Preflight counts the source
 * folders with IMAP STATUS, one short session before the engine's own.
 */
/**
 * util-linux's setpriv, when present (every mainstream Linux), makes the kernel signal the engine
 * when its worker dies. Without it, a worker killed with -9 leaves an engine that may keep copying
 * (imapsync only notices at its next output line, which a large message can delay; the built-in
 * engine ignores a closed stdout), racing the attempt another worker resumes.
 */
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p)) ?? null;

export function defaultEngineRunner(
  engine: ResolvedEngine,
  options: { onSpawn?: (pid: number) => void } = {},
): EngineRunner {
  return {
    async run(input) {
      const { spec } = input;
      const argv = [...engine.prefixArgs, ...buildImapsyncArgs(spec)];
      const result = await runEngine({
        bin: SETPRIV ?? engine.bin,
        args: SETPRIV ? ["--pdeathsig", "SIGTERM", "--", engine.bin, ...argv] : argv,
        env: engineEnv(spec),
        mailboxes: {
          source: { user: spec.source.user, host: spec.source.host },
          destination: { user: spec.destination.user, host: spec.destination.host },
        },
        signal: input.signal,
        onLine: (line) => input.onLine(line),
        onEvent: (event) => input.onEvent(event),
        onSpawn: (pid) => {
          input.onSpawn?.(pid);
          options.onSpawn?.(pid);
        },
      });
      if (SETPRIV && result.exitCode === 127 && !result.cancelled) {
        // setpriv could not execute the engine (its own "failed to execute" exit status).
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
  };
}
