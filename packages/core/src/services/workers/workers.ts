import os from "node:os";
import type { Database } from "@imapferry/db";
import { type Kysely, sql } from "kysely";
import type { ServiceContext } from "../../context.ts";
import { leaseTiming } from "../../queue/lease-timing.ts";
import { enqueueJobs } from "../../queue/queue-entries.ts";
import { notifyJobsChanged } from "../jobs/job-events.ts";
import { appendLogChunk } from "../logs/logs.ts";
import type { Settings } from "../settings/schemas.ts";
import { getSettings } from "../settings/settings.ts";
import { recordJobStatusEvents } from "../webhooks/events.ts";
import { currentProcessIdentity, hasCertainlyExited } from "./process-identity.ts";

export interface WorkerView {
  id: string;
  hostname: string;
  pid: number;
  pool: string | null;
  capacity: number;
  running: number;
  load: number[];
  memoryRss: number;
  startedAt: Date;
  heartbeatAt: Date;
  draining: boolean;
  stoppedAt: Date | null;
  /** Heartbeat recent enough (within the lease) and not stopped. */
  alive: boolean;
}

type Db = Kysely<Database>;

export async function registerWorker(
  db: Db,
  worker: { id: string; pool: string | null; capacity: number },
): Promise<void> {
  const identity = currentProcessIdentity();
  await db
    .insertInto("workers")
    .values({
      id: worker.id,
      hostname: identity.hostname,
      pid: identity.pid,
      boot_id: identity.bootId,
      pid_namespace: identity.pidNamespace,
      process_start: identity.processStart,
      pool: worker.pool,
      capacity: worker.capacity,
      load: JSON.stringify(os.loadavg()) as unknown as number[],
      memory_rss: String(process.memoryUsage.rss()),
    })
    .execute();
}

export interface HeartbeatResult {
  /** Jobs this worker still holds the lease of. */
  held: Set<number>;
  /** Of those, the ones somebody asked to cancel. */
  cancelRequested: Set<number>;
}

/**
 * One heartbeat: the worker row (running count, load, memory) and the lease of every job it runs,
 * renewed in one transaction. A job missing from `held` was taken from this worker (its lease had
 * expired and another worker resumed it), so the caller must stop that engine without writing.
 */
export async function heartbeat(
  db: Db,
  worker: { id: string; running: number[]; draining: boolean; leaseSeconds: number },
): Promise<HeartbeatResult> {
  return db.transaction().execute(async (trx) => {
    await trx
      .updateTable("workers")
      .set({
        heartbeat_at: sql<Date>`now()`,
        running: worker.running.length,
        load: JSON.stringify(os.loadavg()),
        memory_rss: String(process.memoryUsage.rss()),
        draining: worker.draining,
        stopped_at: null,
        exited_at: null,
      })
      .where("id", "=", worker.id)
      .execute();
    if (worker.running.length === 0) return { held: new Set(), cancelRequested: new Set() };
    const rows = await trx
      .updateTable("jobs")
      .set({ lease_expires_at: sql<Date>`now() + make_interval(secs => ${worker.leaseSeconds})` })
      .where("id", "in", worker.running)
      .where("worker_id", "=", worker.id)
      .where("status", "=", "running")
      .returning(["id", "cancel_requested_at"])
      .execute();
    return {
      held: new Set(rows.map((r) => r.id)),
      cancelRequested: new Set(rows.filter((r) => r.cancel_requested_at !== null).map((r) => r.id)),
    };
  });
}

export async function markWorkerStopped(db: Db, workerId: string): Promise<void> {
  await db
    .updateTable("workers")
    .set({ stopped_at: sql<Date>`now()`, running: 0 })
    .where("id", "=", workerId)
    .execute();
}

export async function listWorkers(
  ctx: Pick<ServiceContext, "db">,
  options: { includeStopped?: boolean; leaseSeconds?: number } = {},
): Promise<WorkerView[]> {
  const lease = options.leaseSeconds ?? (await getSettings(ctx)).leaseSeconds;
  let q = ctx.db
    .selectFrom("workers")
    .selectAll()
    .select(
      sql<boolean>`stopped_at is null and heartbeat_at > now() - make_interval(secs => ${lease})`.as("alive"),
    );
  if (!options.includeStopped) q = q.where("stopped_at", "is", null);
  const rows = await q.orderBy("started_at", "desc").limit(500).execute();
  return rows.map((r) => ({
    id: r.id,
    hostname: r.hostname,
    pid: r.pid,
    pool: r.pool,
    capacity: r.capacity,
    running: r.running,
    load: r.load,
    memoryRss: Number(r.memory_rss),
    startedAt: r.started_at,
    heartbeatAt: r.heartbeat_at,
    draining: r.draining,
    stoppedAt: r.stopped_at,
    alive: r.alive,
  }));
}

export interface PoolLiveness {
  /** null: the default pool. */
  pool: string | null;
  /** Workers of this pool taking jobs: heartbeat within the lease, not stopped, not draining. */
  alive: number;
}

/** Live workers per pool (pools with none are absent). One cheap query, for the health check. */
export async function countLiveWorkers(db: Db, leaseSeconds: number): Promise<PoolLiveness[]> {
  const rows = await db
    .selectFrom("workers")
    .select(["pool", (eb) => eb.fn.countAll<string>().as("alive")])
    .where("stopped_at", "is", null)
    .where("draining", "=", false)
    .where(sql<boolean>`heartbeat_at > now() - make_interval(secs => ${leaseSeconds})`)
    .groupBy("pool")
    .orderBy("pool")
    .execute();
  return rows.map((r) => ({ pool: r.pool, alive: Number(r.alive) }));
}

export interface RecoveryResult {
  interrupted: number[];
  resumed: number[];
  cancelled: number[];
}

/**
 * A worker that died (kill -9, a crash, a lost database) could not store what its engine printed in
 * its last moments (the writer batches ~100 ms). The log says where that hole may be, after the
 * last line that was stored, rather than reading as if nothing had been lost.
 */
async function lostOutputNote(db: Kysely<Database>, jobId: number): Promise<string> {
  const last = await db
    .selectFrom("job_logs")
    .select((eb) => eb.fn.max("created_at").as("at"))
    .where("job_id", "=", jobId)
    .executeTakeFirst();
  if (!last?.at) return "";
  const at = new Date(last.at)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");
  return ` Its output after ${at} may be missing from this log.`;
}

/**
 * Finds running jobs whose run is gone — the lease expired (the worker stopped heartbeating) or the
 * worker row says it stopped — and settles them: a cancel that was requested wins (`cancelled`);
 * otherwise `interrupted`, and with auto-resume the same row goes back to `queued` with attempt + 1
 * for any worker to take. Safe to run from every worker at once: rows are claimed with SKIP LOCKED.
 *
 * Why the same row and not a new one: the job id is what the operator, the SDK (waiting on a job) and
 * notifications follow; a resume is the same migration continuing, and the engine skips what the
 * destination already has. Reruns (an operator's decision) are the ones that make new rows.
 */
export async function recoverInterruptedJobs(
  ctx: Pick<ServiceContext, "db" | "log">,
  settings: Settings,
  handBack?: { workerId: string; jobIds: number[]; sentence: string },
): Promise<RecoveryResult> {
  const takeMarginSeconds = leaseTiming(settings.leaseSeconds).takeMarginMs / 1000;
  const exitedGraceSeconds = EXITED_WORKER_GRACE_MS / 1000;
  return ctx.db.transaction().execute(async (trx) => {
    // A hand-back names its own jobs (their leases are still valid) and waits for their rows (its own
    // heartbeat may hold one for a moment: skipping it would leave the job running on a worker that
    // is leaving); recovery finds the abandoned ones and skips rows another process is settling.
    const scope = handBack
      ? sql`j.worker_id = ${handBack.workerId} and j.id = any(${sql.val(handBack.jobIds)}::int[])`
      : // Abandoned: its lease lapsed more than the take margin ago. Not sooner, even when its worker
        // looks dead or stopped: a worker cut off from the database may still be running the engine
        // until its kill margin before the lease's end, and two engines must never write one mailbox.
        // Sooner only when a process on the worker's own host saw its process gone (markExitedWorkers),
        // and then only once its orphaned engines have had time to stop (EXITED_WORKER_GRACE_MS).
        sql`(j.lease_expires_at is null
             or j.lease_expires_at < now() - make_interval(secs => ${takeMarginSeconds})
             or w.exited_at < now() - make_interval(secs => ${exitedGraceSeconds}))`;
    const stale = await sql<{
      id: number;
      worker_id: string | null;
      attempt: number;
      cancel_requested_at: Date | null;
      hostname: string | null;
      pid: number | null;
      exited: boolean;
    }>`
      select j.id, j.worker_id, j.attempt, j.cancel_requested_at, w.hostname, w.pid,
             coalesce(w.exited_at is not null, false) as exited
      from jobs j left join workers w on w.id = j.worker_id
      where j.status = 'running' and ${scope}
      order by j.id
      for update of j ${handBack ? sql`` : sql`skip locked`}`.execute(trx);
    const result: RecoveryResult = { interrupted: [], resumed: [], cancelled: [] };
    for (const job of stale.rows) {
      const where = job.hostname
        ? `${job.hostname} (pid ${job.pid})`
        : (job.worker_id ?? "an unknown worker");
      if (job.cancel_requested_at) {
        await trx
          .updateTable("jobs")
          .set({
            status: "cancelled",
            finished_at: sql<Date>`now()`,
            lease_expires_at: null,
            error_category: "cancelled",
            error_message: `Cancelled; the worker on ${where} stopped before confirming.`,
          })
          .where("id", "=", job.id)
          .execute();
        result.cancelled.push(job.id);
        await recordJobStatusEvents(trx, [job.id]);
        continue;
      }
      const sentence =
        handBack?.sentence ??
        `The worker on ${where} stopped responding during attempt ${job.attempt}${job.exited ? ": its process is gone" : ""}.`;
      // A hand-back is a deliberate stop, not a failure: it always resumes.
      const resume =
        handBack !== undefined || (settings.autoResume && job.attempt <= settings.maxResumeAttempts);
      await trx
        .updateTable("jobs")
        .set({
          status: "interrupted",
          finished_at: sql<Date>`now()`,
          lease_expires_at: null,
          error_category: "interrupted",
          error_message: sentence,
        })
        .where("id", "=", job.id)
        .execute();
      await notifyJobsChanged(trx, [job.id]);
      result.interrupted.push(job.id);
      await appendLogChunk(
        trx,
        job.id,
        `\n[imapferry] ${sentence}${handBack ? "" : await lostOutputNote(trx, job.id)}${resume ? ` Resuming as attempt ${job.attempt + 1}.` : " Not resumed automatically; rerun it when ready."}\n`,
      );
      if (resume) {
        await trx
          .updateTable("jobs")
          .set({
            status: "queued",
            attempt: job.attempt + 1,
            worker_id: null,
            finished_at: null,
            started_at: null,
          })
          .where("id", "=", job.id)
          .execute();
        await enqueueJobs(trx, { jobIds: [job.id] });
        result.resumed.push(job.id);
      }
    }
    const touched = [...result.resumed, ...result.cancelled];
    await notifyJobsChanged(trx, touched);
    if (stale.rows.length > 0) {
      ctx.log.warn("recovered jobs of a stopped worker", {
        interrupted: result.interrupted,
        resumed: result.resumed,
        cancelled: result.cancelled,
      });
    }
    return result;
  });
}

/**
 * Queued and waiting rows without a queue entry (a database restored from backup, an entry removed by
 * hand) get one again: they survive every restart.
 */
export async function requeueOrphanedJobs(
  ctx: Pick<ServiceContext, "db" | "log">,
  options: { staleLockSeconds?: number } = {},
): Promise<number[]> {
  // An entry a worker took but never claimed with (it died in between) stays locked for graphile-worker's
  // four hours; a claim takes milliseconds, so an entry of a queued job locked this long is as good as lost.
  const staleLock =
    options.staleLockSeconds === undefined
      ? sql<boolean>`false`
      : sql<boolean>`coalesce(g.locked_at < now() - make_interval(secs => ${options.staleLockSeconds}), false)`;
  return ctx.db.transaction().execute(async (trx) => {
    const rows = await sql<{ id: number }>`
      select j.id from jobs j
      where j.status in ('queued', 'waiting') and j.deleted_at is null
        and not exists (select 1 from graphile_worker.jobs g
                        where g.key = ${"imapferry:job:"} || j.id and not (${staleLock}))
      order by j.id
      for update of j skip locked`.execute(trx);
    const ids = rows.rows.map((r) => r.id);
    if (ids.length > 0) {
      // A waiting job's entry runs at its resume time, as it would have.
      await enqueueJobs(trx, { jobIds: ids }, { atResumeTime: true });
      ctx.log.warn("queued jobs had no queue entry; enqueued them again", { jobs: ids.length });
    }
    return ids;
  });
}

/**
 * How long the jobs of a worker seen exited wait before anyone takes them. Its engines outlive it for
 * a moment: they get SIGTERM when it dies (setpriv's parent-death signal, or their own check of their
 * parent every second), and the built-in engine then lets appends already on the wire be confirmed
 * for up to 5 s. Two engines must never write one mailbox, so the taker waits for all of that.
 */
export const EXITED_WORKER_GRACE_MS = 10_000;

/**
 * Workers of this host whose process is certainly gone (see hasCertainlyExited: same boot and pid
 * namespace, the pid free or reused by a later process) are marked exited and stopped, so their
 * running jobs are taken over after EXITED_WORKER_GRACE_MS rather than after the whole lease. This is
 * how a worker restarted at once after a kill -9 resumes its predecessor's jobs without waiting a
 * minute. Workers of other hosts, and any this process cannot judge, are left to their heartbeat.
 * Returns the ids marked.
 */
export async function markExitedWorkers(db: Db): Promise<string[]> {
  const here = currentProcessIdentity();
  if (!here.bootId || !here.pidNamespace) return [];
  const candidates = await db
    .selectFrom("workers as w")
    .select(["w.id", "w.hostname", "w.pid", "w.boot_id", "w.pid_namespace", "w.process_start"])
    .where("w.exited_at", "is", null)
    .where("w.hostname", "=", here.hostname)
    .where("w.boot_id", "=", here.bootId)
    .where("w.pid_namespace", "=", here.pidNamespace)
    .where((eb) =>
      eb.or([
        eb("w.stopped_at", "is", null),
        eb.exists(
          eb
            .selectFrom("jobs as j")
            .select(sql`1`.as("one"))
            .whereRef("j.worker_id", "=", "w.id")
            .where("j.status", "=", "running"),
        ),
      ]),
    )
    .execute();
  const exited = candidates
    .filter((w) =>
      hasCertainlyExited(
        {
          hostname: w.hostname,
          pid: w.pid,
          bootId: w.boot_id,
          pidNamespace: w.pid_namespace,
          processStart: w.process_start,
        },
        here,
      ),
    )
    .map((w) => w.id);
  if (exited.length === 0) return [];
  await db
    .updateTable("workers")
    .set({ exited_at: sql<Date>`now()`, stopped_at: sql<Date>`coalesce(stopped_at, now())`, running: 0 })
    .where("id", "in", exited)
    .where("exited_at", "is", null)
    .execute();
  return exited;
}

/**
 * Worker rows whose heartbeat stopped are marked stopped (kept a week for the panel's history, then
 * removed: every start registers a new id, so they would pile up).
 */
export async function markSilentWorkersStopped(db: Db, leaseSeconds: number): Promise<void> {
  await db.deleteFrom("workers").where("stopped_at", "<", sql<Date>`now() - interval '7 days'`).execute();
  // SKIP LOCKED: a worker cut off in the middle of its heartbeat may hold its row's lock until the
  // server notices; waiting for it would stall this whole recovery pass.
  await db
    .updateTable("workers")
    .set({ stopped_at: sql<Date>`now()`, running: 0 })
    .where("id", "in", (eb) =>
      eb
        .selectFrom("workers")
        .select("id")
        .where("stopped_at", "is", null)
        .where(sql<boolean>`heartbeat_at < now() - make_interval(secs => ${leaseSeconds})`)
        .forUpdate()
        .skipLocked(),
    )
    .execute();
}
