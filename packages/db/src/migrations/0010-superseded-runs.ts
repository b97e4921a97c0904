import { type Kysely, sql } from "kysely";

// Frozen in time: migrations use Kysely<any>, never the live Database type.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // A mailbox pair (source server and login, destination server and login, logins case-insensitive) is
  // one line of its batch: its latest job. Every earlier job of the pair points at that latest one, so
  // the default lists, the batch counts and the report read `superseded_by is null` from an index
  // instead of working out "is there a newer job of this pair" per row at every request.
  await sql`
    alter table jobs add column superseded_by integer references jobs (id) on delete set null;

    create index jobs_pair_idx on jobs
      (batch_id, source_server_id, lower(source_email), dest_server_id, lower(dest_email), id)
      where batch_id is not null;
    create index jobs_superseded_by_idx on jobs (superseded_by) where superseded_by is not null;
    create index jobs_latest_created_idx on jobs (created_at desc, id desc)
      where deleted_at is null and superseded_by is null;
    create index jobs_latest_status_idx on jobs (status, created_at desc, id desc)
      where deleted_at is null and superseded_by is null;
    create index jobs_latest_batch_idx on jobs (batch_id, status)
      where deleted_at is null and superseded_by is null;

    update jobs j set superseded_by = latest.head
    from (
      select id, max(id) filter (where deleted_at is null) over (
               partition by batch_id, source_server_id, lower(source_email), dest_server_id, lower(dest_email)
             ) as head
      from jobs where batch_id is not null
    ) latest
    where j.id = latest.id and latest.head is not null and latest.head <> j.id;
  `.execute(db);
}
