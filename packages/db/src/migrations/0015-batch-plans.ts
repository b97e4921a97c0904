import { type Kysely, sql } from "kysely";

// Frozen in time: migrations use Kysely<any>, never the live Database type.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // A batch's plan: delta passes every interval while users still work on the old server, then a
  // cutover (one final pass, the check, a summary). One row per batch; the schedule itself lives in
  // graphile-worker (a run_at entry per batch), this row is what the schedule acts on and shows.
  await sql`
    create table batch_plans (
      batch_id integer primary key references batches (id) on delete cascade,
      interval_seconds integer not null check (interval_seconds > 0),
      cutover_at timestamptz,
      delete_on_destination_at_cutover boolean not null default false,
      prestage_min_age_days integer check (prestage_min_age_days > 0),
      phase text not null default 'active'
        check (phase in ('active', 'paused', 'cutting-over', 'ended')),
      next_pass_at timestamptz,
      passes integer not null default 0,
      last_pass_at timestamptz,
      last_pass_queued integer,
      last_pass_busy integer,
      cutover_started_at timestamptz,
      ended_at timestamptz,
      complete_count integer,
      attention_count integer,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );

    -- The cutover's summary email is a notification of its own kind.
    alter table notifications drop constraint notifications_kind_check;
    alter table notifications add constraint notifications_kind_check
      check (kind in ('job', 'batch', 'cutover'));
  `.execute(db);
}
