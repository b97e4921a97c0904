import { randomBytes } from "node:crypto";
import os from "node:os";
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
import {
  heartbeat,
  markSilentWorkersStopped,
  markWorkerStopped,
  recoverInterruptedJobs,
  registerWorker,
  requeueOrphanedJobs,
} from "../services/workers/workers.ts";
import { defaultEngineRunner, type EngineRunner } from "./engine-run.ts";
import { type ActiveRun, type RunStopReason, runMigrationTask } from "./migration-run.ts";
import { MIGRATE_FLAG, migrateTaskFor, sourceFlagFor } from "./queue-entries.ts";

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
  /** Heartbeat (and lease renewal) period. @defaultValue 5000 */
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
  await markSilentWorkersStopped(ctx.db, settings.leaseSeconds);
  await recoverInterruptedJobs(ctx, settings);
  await requeueOrphanedJobs(ctx);

  function stopRun(jobId: number, reason: RunStopReason): void {
    const run = active.get(jobId);
    if (run && !run.controller.signal.aborted) {
      run.reason = reason;
      run.controller.abort(reason);
    }
  }

  const unsubscribeCancel = hub.subscribe(CHANNELS.cancel, function onCancelRequest(event) {
    if (typeof event?.jobId === "number") stopRun(event.jobId, "cancel");
  });
  await unsubscribeCancel.ready;

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

  runner = await run({
    pgPool: ctx.pool,
    concurrency,
    noHandleSignals: true,
    pollInterval: 2000,
    logger: graphileLogger,
    forbiddenFlags,
    ...options.graphile,
    taskList: { ...options.tasks, [migrateTaskFor(pool)]: migrate },
  });

  /** When this worker last renewed its leases: past a whole lease, other workers may own its jobs. */
  let lastHeartbeatAt = Date.now();

  async function beat(): Promise<void> {
    try {
      settings = await getSettings(ctx);
      // Only runs whose claim had committed before this heartbeat are judged by it. A run claimed while
      // the heartbeat was in flight is invisible to the heartbeat's UPDATE (its snapshot still saw the
      // job queued), and judging it would stop a healthy run as "lost": the job then held its
      // source-server slot as a zombie until its lease lapsed (60 s by default) and restarted.
      const running = [...active.entries()].filter(([, run]) => run.claimed).map(([jobId]) => jobId);
      const result = await heartbeat(ctx.db, { id, running, draining, leaseSeconds: settings.leaseSeconds });
      for (const jobId of running) {
        if (!active.has(jobId)) continue;
        if (!result.held.has(jobId)) stopRun(jobId, "lost");
        else if (result.cancelRequested.has(jobId)) stopRun(jobId, "cancel");
      }
      lastHeartbeatAt = Date.now();
      if (!stopping) {
        await markSilentWorkersStopped(ctx.db, settings.leaseSeconds);
        await recoverInterruptedJobs(ctx, settings);
        // A queued job whose ticket was lost (its worker died between taking and claiming it) gets one.
        await requeueOrphanedJobs(ctx, { staleLockSeconds: settings.leaseSeconds });
      }
    } catch (e: unknown) {
      ctx.log.warn("worker heartbeat failed; retrying", {
        workerId: id,
        error: errorMessage(e),
      });
      // Cut off from the database for a whole lease: other workers will resume these jobs, so this
      // worker's engines must not keep writing to the same mailboxes.
      if (Date.now() - lastHeartbeatAt > settings.leaseSeconds * 1000) {
        for (const [jobId, run] of active) if (run.claimed) stopRun(jobId, "lost");
      }
    }
  }

  // At least three heartbeats per lease, whatever the settings say: a lease shorter than the
  // heartbeat period would expire under a healthy worker and get its migrations taken away.
  function scheduleHeartbeat(): void {
    const delay = Math.max(200, Math.min(heartbeatMs, (settings.leaseSeconds * 1000) / 3));
    heartbeatTimer = setTimeout(function heartbeatTick() {
      heartbeatRunning = heartbeatRunning.then(beat).then(() => {
        if (heartbeatTimer) scheduleHeartbeat();
      });
    }, delay);
  }
  scheduleHeartbeat();

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
    await runner?.stop().catch((e: unknown) => {
      ctx.log.warn("graphile-worker stopped with an error", {
        error: errorMessage(e),
      });
    });
    runner = null;
    unsubscribeCancel();
    if (ownHub) await hub.close();
    await markWorkerStopped(ctx.db, id).catch(() => {});
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
