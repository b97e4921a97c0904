import type { Database } from "@imapferry/db";
import { type Kysely, sql } from "kysely";
import { CHANNELS } from "../../events/channels.ts";

/**
 * NOTIFYs imapferry_job for these jobs with their current status, from inside the caller's transaction:
 * PostgreSQL delivers it only if that transaction commits, so listeners never see a change that was
 * rolled back. `status` overrides the row's (used for "deleted", which has no row to read).
 */
export async function notifyJobsChanged(
  db: Kysely<Database>,
  jobIds: readonly number[],
  options: { status?: string; includeProgress?: boolean } = {},
): Promise<void> {
  if (jobIds.length === 0) return;
  // A running job with a resume time is waiting in process for a server's suggested backoff: it is
  // reported as waiting, like one handed back to the queue (see queue/in-process-wait.ts).
  const status = options.status
    ? sql`${options.status}::text`
    : sql`case when j.status = 'running' and j.resume_at is not null then 'waiting' else j.status end`;
  const progress = options.includeProgress ? sql`, 'progress', j.progress` : sql``;
  await sql`
    select pg_notify(${CHANNELS.job}, json_build_object('jobId', j.id, 'batchId', j.batch_id, 'status', ${status}, 'resumeAt', j.resume_at${progress})::text)
    from jobs j where j.id = any(${sql.val([...jobIds])}::int[]) order by j.id`.execute(db);
}

/** For rows about to vanish (hard delete): the event is built from values, not from the row. */
export async function notifyJobsDeleted(
  db: Kysely<Database>,
  jobs: readonly { id: number; batchId: number | null }[],
): Promise<void> {
  if (jobs.length === 0) return;
  await sql`
    select pg_notify(${CHANNELS.job}, json_build_object('jobId', x.id, 'batchId', x.batch_id, 'status', 'deleted')::text)
    from unnest(${sql.val(jobs.map((j) => j.id))}::int[], ${sql.val(jobs.map((j) => j.batchId))}::int[]) as x(id, batch_id)`.execute(
    db,
  );
}

export async function notifyCancel(db: Kysely<Database>, jobIds: readonly number[]): Promise<void> {
  if (jobIds.length === 0) return;
  await sql`
    select pg_notify(${CHANNELS.cancel}, json_build_object('jobId', id)::text)
    from unnest(${sql.val([...jobIds])}::int[]) as id`.execute(db);
}

/** Asks the worker running these jobs to end their in-process waits for a throttling server now. */
export async function notifyResume(db: Kysely<Database>, jobIds: readonly number[]): Promise<void> {
  if (jobIds.length === 0) return;
  await sql`
    select pg_notify(${CHANNELS.resume}, json_build_object('jobId', id)::text)
    from unnest(${sql.val([...jobIds])}::int[]) as id`.execute(db);
}
