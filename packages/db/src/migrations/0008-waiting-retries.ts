import { type Kysely, sql } from "kysely";

// Frozen in time: migrations use Kysely<any>, never the live Database type.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // 'waiting': the run stopped on something that passes (a throttling server, a dropped connection);
  // the job resumes by itself at resume_at, through a queue entry that runs then. auto_retries counts
  // those automatic resumptions against the retry policy (settings), so a job never retries forever.
  await sql`
    alter table jobs drop constraint jobs_status_check;
    alter table jobs add constraint jobs_status_check
      check (status in ('queued', 'running', 'waiting', 'done', 'incomplete', 'failed', 'cancelled', 'interrupted'));
    alter table jobs add column resume_at timestamptz;
    alter table jobs add column auto_retries integer not null default 0;
  `.execute(db);
}
