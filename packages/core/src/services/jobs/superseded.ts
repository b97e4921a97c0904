import type { Database } from "@imapferry/db";
import { type Kysely, sql } from "kysely";

/**
 * A mailbox pair of a batch: source server, source login, destination server, destination login (logins
 * compare case-insensitively, as IMAP servers do). The batch's line for the pair is its latest job (the
 * highest id that is not deleted); every other job of the pair has `superseded_by` pointing at it. The
 * batch counts, the batch report and the default job lists all read `superseded_by is null`, so they
 * agree on what a pair's current run is.
 *
 * Called in the transaction that adds, removes or moves a job of a batch (a rerun, a job created into a
 * batch, a delete, an edit of a login or server), with the jobs whose pairs may have changed: for each
 * of their pairs, every job is pointed at the pair's latest again. Jobs outside a batch supersede
 * nothing: each is its own line.
 */
export async function refreshSuperseded(trx: Kysely<Database>, jobIds: readonly number[]): Promise<void> {
  if (jobIds.length === 0) return;
  await sql`
    with pairs as (
      select distinct batch_id, source_server_id, lower(source_email) as source_login, dest_server_id,
             lower(dest_email) as dest_login
      from jobs where id = any(${sql.val([...new Set(jobIds)])}::int[]) and batch_id is not null
    ),
    members as (
      select j.id, max(j.id) filter (where j.deleted_at is null) over (
               partition by j.batch_id, j.source_server_id, lower(j.source_email), j.dest_server_id, lower(j.dest_email)
             ) as head
      from jobs j
      join pairs p on j.batch_id = p.batch_id and j.source_server_id = p.source_server_id
        and lower(j.source_email) = p.source_login and j.dest_server_id = p.dest_server_id
        and lower(j.dest_email) = p.dest_login
    )
    update jobs set superseded_by = nullif(m.head, jobs.id)
    from members m
    where jobs.id = m.id and jobs.superseded_by is distinct from nullif(m.head, jobs.id)`.execute(trx);
}

/** The jobs a job supersedes, and the one that supersedes it: whose pair it shares before a change. */
export async function pairMembersOf(trx: Kysely<Database>, jobIds: readonly number[]): Promise<number[]> {
  if (jobIds.length === 0) return [];
  const ids = sql.val([...new Set(jobIds)]);
  const rows = await sql<{ id: number }>`
    select id from jobs where superseded_by = any(${ids}::int[])
    union select superseded_by from jobs where id = any(${ids}::int[]) and superseded_by is not null`.execute(
    trx,
  );
  return rows.rows.map((r) => r.id);
}
