import { type Kysely, sql } from "kysely";

// Frozen in time: migrations use Kysely<any>, never the live Database type.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // Providers' per-account limits (Gmail: 2,500 MB download and 500 MB upload a day, 15 connections),
  // set on the server entry; null = no limit. account_usage counts what runs copied per account and
  // per budget window (bytes read from a source account, written to a destination account), so a run
  // that reaches a budget stops and the job waits until its window resets.
  await sql`
    alter table servers add column daily_download_bytes bigint
      check (daily_download_bytes is null or daily_download_bytes > 0);
    alter table servers add column daily_upload_bytes bigint
      check (daily_upload_bytes is null or daily_upload_bytes > 0);
    alter table servers add column max_connections integer
      check (max_connections is null or max_connections between 1 and 100);

    create table account_usage (
      server_id integer not null references servers (id) on delete cascade,
      login text not null,
      direction text not null check (direction in ('download', 'upload')),
      window_start timestamptz not null,
      bytes bigint not null default 0 check (bytes >= 0),
      primary key (server_id, login, direction, window_start)
    );
  `.execute(db);
}
