import { randomBytes } from "node:crypto";
import os from "node:os";
import { openBoundedDatabase } from "@imapferry/db";
import {
  Logger as GraphileLogger,
  type Runner,
  type RunnerOptions,
  run,
  type Task,
  type TaskList,
} from "graphile-worker";
import { sql } from "kysely";
import type { ServiceContext } from "../context.ts";
import type { ResolvedEngine } from "../engines/select-engine.ts";
import { errorMessage } from "../errors.ts";
import { CHANNELS } from "../events/channels.ts";
import { createEventHub, type EventHub } from "../events/hub.ts";
import type { Settings } from "../services/settings/schemas.ts";
import { getSettings } from "../services/settings/settings.ts";
import { recoverAbandonedWork, startRecoverySweeper } from "../services/workers/recovery-sweeper.ts";
import { heartbeat, markWorkerStopped, registerWorker } from "../services/workers/workers.ts";
import { defaultEngineRunner, type EngineRunner } from "./engine-run.ts";
import { leaseTiming } from "./lease-timing.ts";
import { type ActiveRun, type RunStopReason, runMigrationTask, stopActiveRun } from "./migration-run.ts";
import { MIGRATE_FLAG, migrateTaskFor, sourceFlagFor } from "./queue-entries.ts";

/** How often the lease deadlines of running engines are checked. */
const WATCHDOG_INTERVAL_MS = 100;

export interface StartWorkerOptions {
  ctx: ServiceContext;
  /** The engine every migration of this worker runs. */
  engine: ResolvedEngine;
  /** Migrations run at once by this worker. @defaultValue the workerConcurrency setting (4) */
  concurrency?: number;
  /** Serve only jobs routed to this pool. @defaultValue null (the default pool) */
  pool?: string | null;
  /** Extra graphile-worker tasks this worker runs too (notifications). */
  tasks?: TaskList;
  /** @defaultValue a random id with the host name */
  workerId?: string;
  /** Heartbeat (and lease renewal) period; a short lease shortens it (see lease-timing.ts). @defaultValue 5000 */
  heartbeatMs?: number;
  /** A process-wide hub to share; otherwise the worker opens its own LISTEN connection. */
  hub?: EventHub;
  /** How migrations are run; tests and benchmarks may substitute the engine runner. */
  engineRunner?: EngineRunner;
  /** Count the source folders (IMAP STATUS) before the engine starts, for progress totals. @defaultValue true */
  preflight?: boolean;
  /** Passed to graphile-worker as is (tests shorten minResetLockedInterval, for instance). */
  graphile?: Partial<RunnerOptions>;
}

export interface WorkerHandle {
  readonly id: string;
  /** Jobs this worker is running right now. */
  readonly running: number[];
  /** Takes nothing new and resolves when every running migration has ended; then the worker stops. */
  drain(): Promise<void>;
  /**
   * Stops the worker. Without `handBack` it drains first; with it, running migrations are stopped at
   * once and handed back (interrupted, queued again as the next attempt) for any worker to resume.
   */
  stop(options?: { handBack?: boolean }): Promise<void>;
}

/**
 * A worker: graphile-worker picks up queued migrations (LISTEN/NOTIFY, so at once) and this runs
 * them, with a heartbeat that renews each running job's lease, cancels across processes through
 * NOTIFY, and recovers the jobs of workers that died.
 */
export async function startWorker(options: StartWorkerOptions): Promise<WorkerHandle> {
  const { ctx } = options;
  let settings: Settings = await getSettings(ctx);
  const pool = options.pool ?? null;
  const concurrency = options.concurrency ?? settings.workerConcurrency;
  const heartbeatMs = options.heartbeatMs ?? 5000;
  const id = options.workerId ?? `${os.hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  const active = new Map<number, ActiveRun>();
  let draining = false;
  let stopping: Promise<void> | null = null;
  let runner: Runner | null = null;
  let heartbeatTimer: NodeJS.Timeout | null = null;
  let heartbeatRunning: Promise<void> = Promise.resolve();
  const idleWaiters = new Set<() => void>();
  const ownHub = options.hub === undefined;
  const hub = options.hub ?? createEventHub(ctx.pool, { log: ctx.log });
  const engineRunner = options.engineRunner ?? defaultEngineRunner(options.engine);

  await registerWorker(ctx.db, { id, pool, capacity: concurrency });
  ctx.log.info("worker registered", { workerId: id, pool, concurrency, engine: options.engine.kind });

  // Start-up reconciliation: runs whose worker is gone become interrupted (and resume per the
  // settings), and queued rows that lost their queue entry get it back.
  await recoverAbandonedWork(ctx, settings, { staleEntries: false });

  function stopRun(jobId: number, reason: RunStopReason): void {
    const run = active.get(jobId);
    if (run) stopActiveRun(run, reason);
  }

  const unsubscribeCancel = hub.subscribe(CHANNELS.cancel, function onCancelRequest(event) {
    if (typeof event?.jobId === "number") stopRun(event.jobId, "cancel");
  });
  await unsubscribeCancel.ready;
  const unsubscribeResume = hub.subscribe(CHANNELS.resume, function onResumeRequest(event) {
    if (typeof event?.jobId === "number") active.get(event.jobId)?.resumeWait?.();
  });
  await unsubscribeResume.ready;

  /**
   * graphile-worker skips entries carrying a forbidden flag: while draining, every migration; else
   * the source servers whose host is already at its limit, so a job for a busy server waits in the queue (keeping
   * its place) while jobs for other servers start. Computed at every fetch, across all workers.
   */
  async function forbiddenFlags(): Promise<string[]> {
    if (draining) return [MIGRATE_FLAG];
    // Limits count per host name: a server entry is forbidden once its host runs as many migrations
    // as the entry's own limit, whichever entries they came through.
    const full = await sql<{ id: number }>`
      with busy as (
        select lower(s.host) as host, count(*) as n
        from jobs j join servers s on s.id = j.source_server_id
        where j.status = 'running' group by lower(s.host)
      )
      select s.id from servers s join busy b on b.host = lower(s.host)
      where b.n >= coalesce(s.source_host_limit, ${settings.defaultSourceHostLimit}::int)`.execute(ctx.db);
    return full.rows.map((r) => sourceFlagFor(r.id));
  }

  const migrate: Task = async function migrateTask(payload, helpers) {
    await runMigrationTask({
      ctx,
      workerId: id,
      engine: options.engine,
      engineRunner,
      preflight: options.preflight ?? true,
      settings: () => settings,
      active,
      isDraining: () => draining,
      payload,
      queueEntry: { runAt: helpers.job.run_at, pool },
    });
    if (active.size === 0) for (const wake of [...idleWaiters]) wake();
  };

  const graphileLogger = new GraphileLogger(function graphileLogScope() {
    return function graphileLog(level, message) {
      if (level === "error") ctx.log.error(message, { source: "graphile-worker" });
      else if (level === "warning") ctx.log.warn(message, { source: "graphile-worker" });
    };
  });

  const startQueue = () =>
    run({
      pgPool: ctx.pool,
      concurrency,
      noHandleSignals: true,
      pollInterval: 2000,
      logger: graphileLogger,
      forbiddenFlags,
      ...options.graphile,
      taskList: { ...options.tasks, [migrateTaskFor(pool)]: migrate },
    });

  /**
   * graphile-worker shuts its pool down when it cannot record a finished task for about a minute (a
   * longer database outage), and its promise then rejects: unwatched, that would end the process and
   * every engine it runs. Instead the queue is started again once the database answers; the runs in
   * flight carry on meanwhile (they record their own outcomes, waiting for the database if need be).
   */
  function superviseQueue(current: Runner): void {
    current.promise.then(
      function queueStopped() {
        if (stopping === null && runner === current) void restartQueue("it stopped");
      },
      function queueFailed(e: unknown) {
        if (stopping === null && runner === current) void restartQueue(errorMessage(e));
      },
    );
  }

  async function restartQueue(why: string): Promise<void> {
    ctx.log.warn("the job queue stopped; starting it again once the database answers", {
      workerId: id,
      error: why,
    });
    runner = null;
    for (let failures = 0; stopping === null; failures++) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** failures, 10_000)));
      if (stopping !== null) return;
      try {
        const next = await startQueue();
        if (stopping !== null) {
          await next.stop().catch(() => {});
          return;
        }
        runner = next;
        superviseQueue(next);
        ctx.log.info("the job queue runs again", { workerId: id, failures });
        return;
      } catch (e: unknown) {
        if ((failures & (failures - 1)) === 0) {
          ctx.log.warn("the job queue could not start yet", { workerId: id, error: errorMessage(e) });
        }
      }
    }
  }

  runner = await startQueue();
  superviseQueue(runner);

  // The lease is renewed through a pool of its own, with a deadline on every call: a main pool full of
  // hung log writes must not starve it, and a hung renewal must fail in time rather than never.
  const leaseDb = openBoundedDatabase(ctx.pool.options, {
    timeoutMs: leaseTiming(settings.leaseSeconds, heartbeatMs).heartbeatTimeoutMs,
    maxConnections: 1,
  });

  /**
   * Renews the lease of every run that was claimed when it began. Each run's deadline moves to the end
   * of the new lease (measured from when the renewal was sent) only if the renewal succeeded; a failed
   * or late one moves nothing, and the watchdog stops the engine when its deadline comes.
   */
  async function beat(): Promise<void> {
    try {
      const timing = leaseTiming(settings.leaseSeconds, heartbeatMs);
      // Only runs whose claim had committed before this heartbeat are judged by it. A run claimed while
      // the heartbeat was in flight is invisible to the heartbeat's UPDATE (its snapshot still saw the
      // job queued), and judging it would stop a healthy run as "lost".
      const runs = [...active.entries()].filter(([, run]) => run.claimed);
      const sentAt = performance.now();
      const result = await leaseDb.run(
        "a lease renewal",
        (db) =>
          heartbeat(db, {
            id,
            running: runs.map(([jobId]) => jobId),
            draining,
            leaseSeconds: settings.leaseSeconds,
          }),
        timing.heartbeatTimeoutMs,
      );
      for (const [jobId, run] of runs) {
        if (active.get(jobId) !== run) continue;
        if (!result.held.has(jobId)) {
          stopActiveRun(run, "lost");
          continue;
        }
        run.stopBy = Math.max(run.stopBy, sentAt + timing.leaseMs - timing.killMarginMs);
        if (result.cancelRequested.has(jobId)) stopActiveRun(run, "cancel");
      }
      // The renewal first, the settings after: a slow settings read must not delay the renewal.
      settings = await leaseDb.run("a settings read", (db) => getSettings({ db }), timing.heartbeatTimeoutMs);
      if (heartbeatFailures > 0) {
        ctx.log.info("worker heartbeat succeeded again", { workerId: id, failures: heartbeatFailures });
      }
      heartbeatFailures = 0;
    } catch (e: unknown) {
      heartbeatFailures++;
      // The 1st, 2nd, 4th, 8th… failure in a row: a long outage is a few lines, not one per beat.
      if ((heartbeatFailures & (heartbeatFailures - 1)) === 0)
        ctx.log.warn("worker heartbeat failed; retrying", {
          workerId: id,
          failures: heartbeatFailures,
          error: errorMessage(e),
        });
    }
  }
  let heartbeatFailures = 0;

  function scheduleHeartbeat(): void {
    heartbeatTimer = setTimeout(function heartbeatTick() {
      heartbeatRunning = heartbeatRunning.then(beat).then(() => {
        if (heartbeatTimer) scheduleHeartbeat();
      });
    }, leaseTiming(settings.leaseSeconds, heartbeatMs).heartbeatMs);
  }
  scheduleHeartbeat();

  /**
   * The fence's holder side: a run whose lease could not be renewed in time has its engine killed
   * before the lease ends, whatever the database connection is doing (it may hang for minutes without
   * an error). Checked often, on the monotonic clock, independently of the heartbeat's own progress.
   */
  const watchdog = setInterval(function enforceLeaseDeadlines() {
    const now = performance.now();
    for (const run of active.values()) {
      if (run.claimed && now >= run.stopBy && !run.controller.signal.aborted) {
        stopActiveRun(run, "lease");
      }
    }
  }, WATCHDOG_INTERVAL_MS);

  // Jobs of workers that died are recovered by every process, on a loop of its own: recovery runs on the
  // main pool and may wait on it, which must never delay a lease renewal.
  const sweeper = startRecoverySweeper(ctx, {
    periodMs: () => leaseTiming(settings.leaseSeconds, heartbeatMs).heartbeatMs,
    isStopping: () => stopping !== null,
  });

  function whenIdle(): Promise<void> {
    if (active.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        if (active.size > 0) return;
        idleWaiters.delete(wake);
        resolve();
      };
      idleWaiters.add(wake);
    });
  }

  async function setDraining(): Promise<void> {
    if (draining) return;
    draining = true;
    await ctx.db
      .updateTable("workers")
      .set({ draining: true })
      .where("id", "=", id)
      .execute()
      .catch(() => {});
    ctx.log.info("worker draining: taking no new migrations", { workerId: id, running: active.size });
  }

  async function shutDown(): Promise<void> {
    if (heartbeatTimer) clearTimeout(heartbeatTimer);
    heartbeatTimer = null;
    await heartbeatRunning;
    await sweeper.stop();
    await runner?.stop().catch((e: unknown) => {
      ctx.log.warn("graphile-worker stopped with an error", {
        error: errorMessage(e),
      });
    });
    runner = null;
    unsubscribeCancel();
    unsubscribeResume();
    if (ownHub) await hub.close();
    await markWorkerStopped(ctx.db, id).catch(() => {});
    clearInterval(watchdog);
    await leaseDb.close();
    ctx.log.info("worker stopped", { workerId: id });
  }

  async function drainAndStop(): Promise<void> {
    await setDraining();
    await whenIdle();
    await shutDown();
  }

  async function handBackAndStop(): Promise<void> {
    await setDraining();
    for (const jobId of [...active.keys()]) stopRun(jobId, "handback");
    await whenIdle();
    await shutDown();
  }

  return {
    id,
    get running() {
      return [...active.entries()].filter(([, r]) => r.claimed).map(([jobId]) => jobId);
    },
    drain() {
      stopping ??= drainAndStop();
      return stopping;
    },
    stop(stopOptions = {}) {
      if (stopOptions.handBack) {
        // A hand-back also overrides a drain already in progress (the second SIGTERM).
        for (const jobId of [...active.keys()]) stopRun(jobId, "handback");
        stopping ??= handBackAndStop();
        return stopping;
      }
      stopping ??= drainAndStop();
      return stopping;
    },
  };
}
