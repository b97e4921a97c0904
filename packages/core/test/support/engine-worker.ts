import { readFileSync } from "node:fs";
import type { ImapCredentials, ImapPair } from "@imapferry/testkit";
import { readMailbox } from "@imapferry/testkit";
import { afterAll, beforeAll, expect } from "vitest";
import type { Logger, ServiceContext } from "../../src/context.ts";
import { type ResolvedEngine, resolveEngine } from "../../src/engines/select-engine.ts";
import type { EngineKind } from "../../src/engines/types.ts";
import { createEventHub, type EventHub } from "../../src/events/hub.ts";
import { defaultEngineRunner, type EngineRunInput } from "../../src/queue/engine-run.ts";
import { startWorker, type WorkerHandle } from "../../src/queue/worker.ts";
import { type ImapFixture, startImapFixture } from "./imap-fixture.ts";
import { createJobTestContext, type JobTestContext } from "./job-context.ts";

export const IMAPSYNC_BIN = process.env.IMAPSYNC_BIN;

/** Both engines; imapsync only where IMAPSYNC_BIN points at the real one (a printed line says so otherwise). */
export function engineCases(file: string): { kind: EngineKind; enabled: boolean }[] {
  if (!IMAPSYNC_BIN) {
    console.warn(
      `${file}: the imapsync cases are skipped — IMAPSYNC_BIN is not set, so the real imapsync cannot be run here (set it to imapsync's absolute path to run them).`,
    );
  }
  return [
    { kind: "builtin", enabled: true },
    { kind: "imapsync", enabled: Boolean(IMAPSYNC_BIN) },
  ];
}

/** The real engine of that kind; imapsync is the one IMAPSYNC_BIN points at, where it is set. */
export function resolveTestEngine(kind: EngineKind): Promise<ResolvedEngine> {
  return resolveEngine({
    engine: kind,
    ...(kind === "imapsync" && IMAPSYNC_BIN ? { imapsyncBin: IMAPSYNC_BIN } : {}),
  });
}

export interface TestWorkerOptions {
  hub?: EventHub;
  /** @defaultValue 2 */
  concurrency?: number;
  /** Short, so a lost lease shows within a test. @defaultValue 500 */
  heartbeatMs?: number;
  /** Hears the pid of each engine process the worker starts. */
  onSpawn?: (pid: number) => void;
  /** Runs after each engine run, before the check of the destination. */
  afterRun?: (input: EngineRunInput) => Promise<void> | void;
}

/** A worker in the test's own process, running `engine` through its default runner. */
export function startTestWorker(
  ctx: ServiceContext,
  engine: ResolvedEngine,
  options: TestWorkerOptions = {},
): Promise<WorkerHandle> {
  const runner = defaultEngineRunner(engine, options.onSpawn ? { onSpawn: options.onSpawn } : {});
  const afterRun = options.afterRun;
  return startWorker({
    ctx,
    engine,
    concurrency: options.concurrency ?? 2,
    heartbeatMs: options.heartbeatMs ?? 500,
    ...(options.hub ? { hub: options.hub } : {}),
    engineRunner: afterRun
      ? {
          preflight: runner.preflight!,
          verify: runner.verify!,
          async run(input) {
            const result = await runner.run(input);
            await afterRun(input);
            return result;
          },
        }
      : runner,
  });
}

/** What a job test file runs its jobs in. */
export interface JobWorld {
  t: JobTestContext;
  imap: ImapFixture;
  engine: ResolvedEngine;
  worker: WorkerHandle;
  /** Only when asked for (`hub: true`); the worker publishes to it. */
  hub: EventHub | undefined;
}

/**
 * A job test file's world: a fresh database, the Dovecot pair and an in-process worker with `engine`
 * (the built-in one unless said), started before its first test and handed to `ready`, and stopped in
 * reverse order after its last.
 */
export function useJobWorld(
  ready: (world: JobWorld) => void,
  options: Omit<TestWorkerOptions, "hub"> & { engine?: EngineKind; hub?: boolean } = {},
): void {
  const { engine: kind = "builtin", hub: withHub = false, ...workerOptions } = options;
  let t: JobTestContext | undefined;
  let imap: ImapFixture | undefined;
  let hub: EventHub | undefined;
  let worker: WorkerHandle | undefined;
  beforeAll(async () => {
    t = await createJobTestContext();
    imap = await startImapFixture(t.ctx);
    if (withHub) hub = createEventHub(t.ctx.pool);
    const engine = await resolveTestEngine(kind);
    worker = await startTestWorker(t.ctx, engine, { ...workerOptions, ...(hub ? { hub } : {}) });
    ready({ t, imap, engine, worker, hub });
  });
  afterAll(async () => {
    await worker?.stop({ handBack: true });
    await hub?.close();
    await imap?.stop();
    await t?.close();
  });
}

/** A process's argv as `ps` and every local user can read it (NUL-separated in /proc). */
export function cmdlineOf(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
}

/** A service logger that keeps every line, to check that no secret reaches it. */
export function capturingLogger(lines: string[]): Logger {
  const keep = (message: string, fields?: Record<string, unknown>) =>
    lines.push(`${message} ${JSON.stringify(fields ?? {})}`);
  return { info: keep, warn: keep, error: keep };
}

/** A worker with the real engine, recording each engine process's argv (as given and as `ps` shows it). */
export async function startArgvRecordingWorker(
  ctx: ServiceContext,
  kind: EngineKind,
  cmdlines: string[],
): Promise<WorkerHandle> {
  const engine = await resolveTestEngine(kind);
  const runner = defaultEngineRunner(engine);
  return startWorker({
    ctx,
    engine,
    concurrency: 2,
    heartbeatMs: 500,
    engineRunner: {
      preflight: runner.preflight!,
      verify: runner.verify!,
      run: (input) =>
        runner.run({
          ...input,
          onSpawn: (pid, argv) => {
            // What execve was given, and what `ps` shows now: a wrapper (setpriv, env) may still be
            // exec'ing, so /proc alone can read empty or the wrapper's own line.
            cmdlines.push(argv.join(" "), cmdlineOf(pid));
          },
        }),
    },
  });
}

/**
 * The destination mailbox holds every source message exactly once: byte for byte for the built-in
 * engine; for imapsync (which adds a Message-ID to messages without one) the same folders, counts and
 * internal dates.
 */
export async function expectSameMail(
  pair: ImapPair,
  users: { source: ImapCredentials; dest: ImapCredentials },
  engine: EngineKind,
): Promise<void> {
  const source = await readMailbox(pair.source, users.source.user, users.source.password);
  const destination = await readMailbox(pair.destination, users.dest.user, users.dest.password);
  if (engine === "builtin") expect(destination).toEqual(source);
  const shape = (snapshot: typeof source) =>
    snapshot.folders.map((f) => ({
      path: f.path,
      messages: f.messages.length,
      dates: f.messages.map((m) => m.internalDate).sort(),
    }));
  expect(shape(destination)).toEqual(shape(source));
  expect(source.folders.reduce((n, f) => n + f.messages.length, 0)).toBeGreaterThan(0);
}
