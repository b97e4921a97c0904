import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { Duplex } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { ImapferryError } from "../errors.ts";
import { buildImapsyncArgs, engineEnv } from "./imapsync/args.ts";
import type { DescribeExitInput, ExitCategory, MailboxRef } from "./imapsync/exit-codes.ts";
import { describeExit } from "./imapsync/exit-codes.ts";
import type { EngineSide, ImapsyncStatistics, ParsedEvent } from "./imapsync/parser.ts";
import { createOutputParser } from "./imapsync/parser.ts";
import type { ResolvedEngine } from "./select-engine.ts";
import { type Throttle, throttleIn } from "./throttle.ts";
import type { MigrationSpec } from "./types.ts";

export type OutputStream = "stdout" | "stderr";

/** Used when the caller gives no PATH: where imapsync and perl live on the usual systems. */
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** Secrets shorter than this are not redacted from output: replacing every "abc" would garble the log. */
const MIN_REDACTED_LENGTH = 4;
/** A line longer than this is cut and delivered in pieces, so a runaway engine cannot exhaust memory. */
const MAX_LINE_CHARS = 256 * 1024;

export interface RunEngineOptions {
  /** The executable (imapsync, or this Node binary for the built-in engine). */
  bin: string;
  /** Its full argv (for the built-in engine, its script first). Never holds a password. */
  args: readonly string[];
  /**
   * Variables only the child sees: the passwords (IMAPSYNC_PASSWORD1/2) go here, never in argv,
   * which every local user can read in /proc/PID/cmdline.
   */
  env: Record<string, string>;
  /**
   * What the child inherits besides `env`. It gets nothing else from this process, so the vault key,
   * DATABASE_URL and the like never reach an engine. @defaultValue a standard PATH and LANG=C.UTF-8
   */
  baseEnv?: Record<string, string | undefined>;
  /** @defaultValue this process's working directory */
  cwd?: string;
  /** Every output line, in order, without its line break. */
  onLine?: (line: string, stream: OutputStream) => void;
  /** Every parsed event (progress, folders, errors, statistics…), as lines arrive. */
  onEvent?: (event: ParsedEvent) => void;
  /** The engine started: its process id and the argv it was started with (never a secret). */
  onSpawn?: (pid: number, argv: readonly string[]) => void;
  /** Aborting cancels the run: SIGTERM to the engine's process group, then SIGKILL after the grace. */
  signal?: AbortSignal;
  /** How long a cancelled engine may take to print its statistics and exit. @defaultValue 10000 */
  cancelGraceMs?: number;
  /** For the outcome sentence. */
  mailboxes: { source: MailboxRef; destination: MailboxRef };
  /**
   * The built-in engine's incremental sync state channel, as descriptor 3 of the child (see
   * builtin/state-channel.ts): `initial` is written to it at once, and every line the engine sends
   * back is handed to `onUpdate`, parsed.
   */
  stateChannel?: EngineStateChannel;
}

export interface EngineStateChannel {
  /** The stored state, one line of JSON (no newline in it). */
  initial: string;
  onUpdate(update: unknown): void;
}

/** Where the engine finds the state channel: the first descriptor after stdio. */
export const STATE_CHANNEL_FD = 3;

export interface RunEngineResult {
  /** The process exit code; null when it died from a signal. */
  exitCode: number | null;
  /** The signal that ended it, if any ("SIGTERM", "SIGKILL"). */
  signal: NodeJS.Signals | null;
  /** True when the run was cancelled through `signal`, however the engine then ended. */
  cancelled: boolean;
  category: ExitCategory;
  /** imapsync's exit constant ("EX_OK", "EXIT_AUTHENTICATION_FAILURE_USER1", "SIGNAL", …). */
  name: string;
  sentence: string;
  /** The run ended on something that passes (see ExitDescription.passing): worth retrying later. */
  passing?: { waitMs: number | null };
  /** The statistics block, when the engine printed one. */
  stats: ImapsyncStatistics | null;
  /** The `Err n/m:` lines of the final error listing. */
  errors: string[];
  durationMs: number;
}

/**
 * Splits a byte stream into lines: UTF-8 characters cut between chunks are reassembled, "\r\n" and
 * "\n" both end a line, and a last line without a newline is delivered at the end.
 */
export function createLineSplitter(
  onLine: (line: string) => void,
  maxLineChars = MAX_LINE_CHARS,
): {
  write(chunk: Buffer): void;
  end(): void;
} {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  function emit(text: string): void {
    onLine(text.endsWith("\r") ? text.slice(0, -1) : text);
  }
  function take(text: string): void {
    pending += text;
    let newline = pending.indexOf("\n");
    while (newline !== -1) {
      emit(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
    while (pending.length > maxLineChars) {
      emit(pending.slice(0, maxLineChars));
      pending = pending.slice(maxLineChars);
    }
  }
  return {
    write(chunk: Buffer): void {
      take(decoder.write(chunk));
    },
    end(): void {
      take(decoder.end());
      if (pending.length > 0) emit(pending);
      pending = "";
    },
  };
}

/**
 * An abort reason that skips the cancel grace: the engine's process group is killed with SIGKILL at
 * once, with no statistics printed. For a worker about to lose a job's lease, which must be sure the
 * engine has stopped writing before anyone else may start.
 */
export class StopAtOnce {
  constructor(readonly why: string) {}
}

/** Process groups of the engines running in this process, so they do not outlive it. */
const liveEngineGroups = new Set<number>();
let exitHookInstalled = false;

/**
 * Detached engines survive their parent by design (their own process group). If the worker exits
 * while one runs, it must not keep copying unwatched, and a resumed run elsewhere must not race it.
 */
function stopEnginesOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", function stopLiveEngines() {
    for (const pid of liveEngineGroups) killGroup(pid, "SIGTERM");
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // Negative pid: the whole process group the engine leads (it was spawned detached).
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

function cancelledBeforeStart(options: RunEngineOptions): RunEngineResult {
  const described = describeExit({ exitCode: null, cancelled: true, ...options.mailboxes });
  return {
    exitCode: null,
    signal: null,
    cancelled: true,
    category: described.category,
    name: described.name,
    sentence: described.sentence,
    stats: null,
    errors: [],
    durationMs: 0,
  };
}

/**
 * Runs one engine process to its end: no shell, its own process group, passwords only in its
 * environment, stdout/stderr split into lines for the log and the parser. Cancelling sends SIGTERM to
 * the group (imapsync then prints its statistics and kills itself with the same signal) and SIGKILL
 * after `cancelGraceMs`; a run that was cancelled is reported as cancelled, whatever signal ended it.
 * Nothing is written to disk, so no password-bearing file can be left behind, and any password echoed
 * in the output is replaced by "[redacted]" before a line reaches `onLine` or the parser.
 * Rejects (CONFIG) only when the engine cannot be started at all.
 */
export function runEngine(options: RunEngineOptions): Promise<RunEngineResult> {
  if (options.signal?.aborted) return Promise.resolve(cancelledBeforeStart(options));
  const started = performance.now();
  const graceMs = options.cancelGraceMs ?? 10_000;
  const base = options.baseEnv ?? {};
  const env: Record<string, string> = { PATH: DEFAULT_PATH, LANG: "C.UTF-8" };
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;
  Object.assign(env, options.env);

  return new Promise<RunEngineResult>((resolve, reject) => {
    const child = spawn(options.bin, [...options.args], {
      cwd: options.cwd,
      env,
      // Own process group: a cancel reaches whatever the engine started too, and a Ctrl-C meant for
      // the worker's terminal does not reach the engine.
      detached: true,
      shell: false,
      stdio: options.stateChannel ? ["ignore", "pipe", "pipe", "pipe"] : ["ignore", "pipe", "pipe"],
      windowsHide: true,
    });
    const stateSocket = options.stateChannel ? (child.stdio[STATE_CHANNEL_FD] as Duplex | null) : null;
    if (stateSocket && options.stateChannel) {
      const channel = options.stateChannel;
      // An engine that ends without reading the state (a usage error) closes its end: not a failure.
      stateSocket.on("error", () => undefined);
      stateSocket.write(`${channel.initial}\n`);
      // A folder's state is one line, as long as its UID map needs: no cut.
      const updates = createLineSplitter(function onStateLine(line: string) {
        if (line === "") return;
        try {
          channel.onUpdate(JSON.parse(line));
        } catch {
          // A malformed line is dropped: the state is advisory, the next pass compares that folder in full.
        }
      }, Number.POSITIVE_INFINITY);
      stateSocket.on("data", (chunk: Buffer) => updates.write(chunk));
      stateSocket.on("end", () => updates.end());
    }

    // Engines should never print a password, but a server's error text or a debug line might echo
    // one back: every line is scrubbed of the passwords this run was given before anyone sees it.
    const secrets = Object.entries(options.env)
      .filter(([key, value]) => /PASSWORD|SECRET|TOKEN/i.test(key) && value.length >= MIN_REDACTED_LENGTH)
      .map(([, value]) => value)
      .sort((a, b) => b.length - a.length);
    const redact = (line: string): string =>
      secrets.reduce(
        (text, secret) => (text.includes(secret) ? text.split(secret).join("[redacted]") : text),
        line,
      );

    const parser = createOutputParser();
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let failedSide: EngineSide | undefined;
    let exitLineErrors: number | null = null;
    let connectionLost: { side: EngineSide; detail: string } | undefined;
    let throttled: Throttle | undefined;
    let stats: ImapsyncStatistics | null = null;
    const errors: string[] = [];

    function handle(events: ParsedEvent[]): void {
      for (const event of events) {
        switch (event.type) {
          case "connect-failed":
          case "failure":
            failedSide ??= event.side;
            break;
          case "login":
            if (!event.ok) failedSide ??= event.side;
            // Logged in again after the drop: the run carried on, the drop explains nothing more.
            else if (connectionLost?.side === event.side) connectionLost = undefined;
            break;
          case "connection-lost":
            connectionLost ??= { side: event.side, detail: event.detail };
            break;
          case "statistics":
            stats = event.stats;
            break;
          case "error":
            errors.push(event.message);
            break;
          case "exit":
            exitLineErrors = event.errors;
            break;
          default:
            break;
        }
        options.onEvent?.(event);
      }
    }

    function lineHandler(stream: OutputStream) {
      return function onEngineLine(raw: string): void {
        const line = redact(raw);
        options.onLine?.(line, stream);
        handle(parser.push(line));
        throttled = throttleIn(line) ?? throttled;
      };
    }
    const stdout = createLineSplitter(lineHandler("stdout"));
    const stderr = createLineSplitter(lineHandler("stderr"));
    child.stdout?.on("data", (chunk: Buffer) => stdout.write(chunk));
    child.stderr?.on("data", (chunk: Buffer) => stderr.write(chunk));

    function onAbort(): void {
      if (cancelled || child.pid === undefined || child.exitCode !== null || child.signalCode !== null)
        return;
      cancelled = true;
      if (options.signal?.reason instanceof StopAtOnce) {
        // No grace: the engine must not write another byte (its worker is about to lose the lease).
        killGroup(child.pid, "SIGKILL");
        return;
      }
      killGroup(child.pid, "SIGTERM");
      killTimer = setTimeout(function escalateToSigkill() {
        if (child.pid !== undefined) killGroup(child.pid, "SIGKILL");
      }, graceMs);
    }

    child.once("spawn", function onEngineSpawn() {
      if (child.pid !== undefined) {
        liveEngineGroups.add(child.pid);
        stopEnginesOnExit();
        options.onSpawn?.(child.pid, child.spawnargs);
      }
      options.signal?.addEventListener("abort", onAbort, { once: true });
      if (options.signal?.aborted) onAbort();
    });

    child.once("error", function onSpawnError(e: NodeJS.ErrnoException) {
      options.signal?.removeEventListener("abort", onAbort);
      clearTimeout(killTimer);
      const reason =
        e.code === "ENOENT" ? "it was not found" : e.code === "EACCES" ? "it is not executable" : e.message;
      reject(
        new ImapferryError("CONFIG", `The migration engine ${options.bin} could not be started: ${reason}.`),
      );
    });

    child.once("exit", function onEngineExit() {
      // The engine is gone; anything it left running in its group goes too, so the pipes close.
      if (child.pid !== undefined) {
        liveEngineGroups.delete(child.pid);
        killGroup(child.pid, "SIGKILL");
      }
    });

    child.once("close", function onEngineClose(code: number | null, signal: NodeJS.Signals | null) {
      options.signal?.removeEventListener("abort", onAbort);
      clearTimeout(killTimer);
      stdout.end();
      stderr.end();
      handle(parser.end());
      const input: DescribeExitInput = {
        exitCode: code,
        signal,
        cancelled,
        ...options.mailboxes,
        errors: exitLineErrors,
        ...(failedSide ? { failedSide } : {}),
        ...(connectionLost ? { connectionLost } : {}),
        ...(throttled ? { throttled } : {}),
      };
      const described = describeExit(input);
      resolve({
        exitCode: code,
        signal,
        cancelled,
        category: described.category,
        name: described.name,
        sentence: described.sentence,
        ...(described.passing ? { passing: described.passing } : {}),
        stats,
        errors,
        durationMs: Math.round(performance.now() - started),
      });
    });
  });
}

export interface RunMigrationEngineOptions {
  engine: ResolvedEngine;
  spec: MigrationSpec;
  onLine?: RunEngineOptions["onLine"];
  onEvent?: RunEngineOptions["onEvent"];
  onSpawn?: RunEngineOptions["onSpawn"];
  signal?: AbortSignal;
  cancelGraceMs?: number;
  baseEnv?: RunEngineOptions["baseEnv"];
  cwd?: string;
  /** Incremental sync state, for the built-in engine only (imapsync keeps none); see RunEngineOptions. */
  stateChannel?: EngineStateChannel;
}

/**
 * util-linux's setpriv, when present (every mainstream Linux), makes the kernel signal the engine
 * when its worker dies. Without it, a worker killed with -9 leaves an engine that may keep copying
 * (imapsync only notices at its next output line, which a large message can delay; the built-in
 * engine ignores a closed stdout), racing the attempt another worker resumes.
 */
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p)) ?? null;

/**
 * One migration with the resolved engine, the way the worker runs it: builds the argv from the spec
 * (allow-listed options only), puts the passwords in the environment, and starts the engine through
 * setpriv where there is one. The same path for imapsync and the built-in engine.
 */
export function runMigrationEngine(options: RunMigrationEngineOptions): Promise<RunEngineResult> {
  const { engine, spec } = options;
  const state = engine.kind === "builtin" && !spec.dryRun ? options.stateChannel : undefined;
  const argv = [
    ...engine.prefixArgs,
    ...buildImapsyncArgs(spec, engine.kind),
    ...(state ? ["--statefd", String(STATE_CHANNEL_FD)] : []),
  ];
  return runEngine({
    bin: SETPRIV ?? engine.bin,
    args: SETPRIV ? ["--pdeathsig", "SIGTERM", "--", engine.bin, ...argv] : argv,
    env: engineEnv(spec),
    mailboxes: {
      source: {
        user: spec.source.user,
        host: spec.source.host,
        admin: spec.source.admin?.login,
        oauth2: spec.source.accessTokenFile !== undefined,
      },
      destination: {
        user: spec.destination.user,
        host: spec.destination.host,
        admin: spec.destination.admin?.login,
        oauth2: spec.destination.accessTokenFile !== undefined,
      },
    },
    ...(options.baseEnv ? { baseEnv: options.baseEnv } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.onLine ? { onLine: options.onLine } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.cancelGraceMs !== undefined ? { cancelGraceMs: options.cancelGraceMs } : {}),
    ...(state ? { stateChannel: state } : {}),
  });
}

/**
 * Whether a run of `runMigrationEngine` never reached the engine: setpriv started but could not
 * execute it (setpriv's own "failed to execute" exit status, 127).
 */
export function engineNotExecuted(result: RunEngineResult): boolean {
  return SETPRIV !== null && result.exitCode === 127 && !result.cancelled;
}
