import { type Kysely, sql } from "kysely";

// Frozen in time: migrations use Kysely<any>, never the live Database type.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // When someone last looked at a whole view (the jobs list): notifications are suppressed while it is
  // watched. A row per view rather than a settings key: it is written every few seconds by every API
  // process and is not something an operator sets. Per-job watches live in jobs.last_watched_at.
  await sql`
    create table watch_marks (
      scope text primary key check (length(scope) between 1 and 100),
      watched_at timestamptz not null
    );
    -- Why a notification was not sent (someone was watching, nobody to tell), for the history view.
    alter table notifications add column suppressed_reason text;
    create index notifications_batch_idx on notifications (batch_id) where batch_id is not null;
    create index notifications_job_idx on notifications (job_id) where job_id is not null;
  `.execute(db);
}
