import type { Database } from "@imapferry/db";
import { type Kysely, sql } from "kysely";

/**
 * How a migration reaches a worker. One graphile-worker task per pool ("migrate" for the default pool,
 * "migrate@eu-big" for a named one): a worker registers only its pool's task, so routing costs nothing
 * and the number of identifiers stays as small as the number of pools. No named queues are used (they
 * would serialise jobs); each entry carries a job key so it can be found and removed by job id.
 */
export const MIGRATE_TASK = "migrate";

/** Flag on every migration entry: a draining worker forbids it and so takes no new migration. */
export const MIGRATE_FLAG = "migrate";

/** graphile-worker retries a task that threw (only an unexpected database error can make ours throw). */
const QUEUE_MAX_ATTEMPTS = 5;

export function migrateTaskFor(pool: string | null | undefined): string {
  return pool ? `${MIGRATE_TASK}@${pool}` : MIGRATE_TASK;
}

/** The graphile-worker job key of a job's queue entry. */
export function queueKeyFor(jobId: number): string {
  return `imapferry:job:${jobId}`;
}

/** Flag carried by entries whose source is this server: a server at its limit is forbidden by workers. */
export function sourceFlagFor(serverId: number): string {
  return `src:${serverId}`;
}

export interface MigratePayload {
  jobId: number;
  /** The attempt this entry was queued for; an entry for an older attempt is stale and ignored. */
  attempt: number;
}

type Executor = Kysely<Database>;

/**
 * Adds the queue entries of these jobs (all queued rows) through `db`, which must be the transaction
 * that wrote the rows: a job never exists without its entry, nor the reverse. graphile-worker runs equal
 * priorities by run_at alone (no tie-break), so each entry gets its own run_at, one microsecond apart in
 * job id order: jobs start first in, first out even within one import. Our priority is "higher runs
 * first"; graphile-worker's is "lower runs first", hence the minus.
 */
export async function enqueueJobs(
  db: Executor,
  where: { jobIds: readonly number[] } | { batchId: number },
  /** Waiting jobs: the entry runs at the job's resume_at rather than now. @defaultValue false */
  options: { atResumeTime?: boolean } = {},
): Promise<number> {
  const start = options.atResumeTime ? sql`greatest(coalesce(j.resume_at, now()), now())` : sql`now()`;
  const filter =
    "jobIds" in where
      ? sql`j.id = any(${sql.val([...where.jobIds])}::int[])`
      : sql`j.batch_id = ${where.batchId} and j.status = 'queued' and j.deleted_at is null`;
  if ("jobIds" in where && where.jobIds.length === 0) return 0;
  const result = await sql<{ n: string }>`
    select count(*)::text as n from graphile_worker.add_jobs(array(
      select row(
        case when j.pool is null then ${MIGRATE_TASK} else ${`${MIGRATE_TASK}@`} || j.pool end,
        json_build_object('jobId', j.id, 'attempt', j.attempt),
        null,
        ${start} + (row_number() over (order by j.id) - 1) * interval '1 microsecond',
        ${QUEUE_MAX_ATTEMPTS},
        ${"imapferry:job:"} || j.id,
        -j.priority,
        array[${MIGRATE_FLAG}, ${"src:"} || j.source_server_id]
      )::graphile_worker.job_spec
      from jobs j
      where ${filter}
      order by j.id
    ))`.execute(db);
  return Number(result.rows[0]?.n ?? 0);
}

/**
 * Re-adds one entry keeping its place in line (run_at of the entry being replaced), for a task that
 * picked a job it may not start yet (it lost a race for the source server's last slot).
 */
export async function requeueEntry(
  db: Executor,
  payload: MigratePayload,
  runAt: Date,
  pool: string | null,
  priority: number,
  sourceServerId: number,
): Promise<void> {
  await sql`select graphile_worker.add_job(
      ${migrateTaskFor(pool)},
      ${JSON.stringify(payload)}::json,
      run_at => ${runAt},
      max_attempts => ${QUEUE_MAX_ATTEMPTS},
      job_key => ${queueKeyFor(payload.jobId)},
      priority => ${-priority},
      flags => array[${MIGRATE_FLAG}, ${sourceFlagFor(sourceServerId)}]
    )`.execute(db);
}

/**
 * Removes the queue entries of these jobs. An entry a worker has already picked up cannot be deleted;
 * graphile-worker then clears its key and stops it from retrying, and our task sees the job is no
 * longer queued and does nothing.
 */
export async function removeQueueEntries(db: Executor, jobIds: readonly number[]): Promise<void> {
  if (jobIds.length === 0) return;
  await sql`select graphile_worker.remove_job(${"imapferry:job:"} || id) from unnest(${sql.val([...jobIds])}::int[]) as id`.execute(
    db,
  );
}

/**
 * Wakes idle workers everywhere (graphile-worker listens on this channel for new jobs). Sent when a
 * source server slot frees up, so jobs that waited for it start at once rather than at the next poll.
 */
export async function nudgeWorkers(db: Executor, count = 1): Promise<void> {
  await sql`select pg_notify('jobs:insert', ${JSON.stringify({ count })})`.execute(db);
}
