import { type Kysely, sql } from "kysely";

// Frozen in time: migrations use Kysely<any>, never the live Database type.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // The built-in engine's incremental sync state: per mailbox pair (the same key that makes a later job
  // of the pair supersede an earlier one, so reruns and scheduled passes find it) and per folder pair,
  // both mailboxes' UIDVALIDITY/UIDNEXT/HIGHESTMODSEQ/MESSAGES and the source UID → destination UID map
  // (as runs, so a 100,000-message folder copied in order is a handful of numbers). Advisory: the engine
  // checks it against the servers and falls back to a full comparison when it does not hold.
  await sql`
    create table sync_folder_states (
      source_server_id integer not null references servers (id) on delete cascade,
      source_login text not null,
      dest_server_id integer not null references servers (id) on delete cascade,
      dest_login text not null,
      source_folder text not null,
      dest_folder text not null,
      state jsonb not null,
      job_id integer references jobs (id) on delete set null,
      updated_at timestamptz not null default now(),
      primary key (source_server_id, source_login, dest_server_id, dest_login, source_folder, dest_folder)
    );

    -- The check after a run, per folder pair: the figures it found for a folder that was complete,
    -- with both folders' UIDVALIDITY/UIDNEXT/MESSAGES when it read them. While those are the same, the
    -- same UIDs name the same messages on both sides, so the proof still holds without reading again.
    create table verified_folders (
      source_server_id integer not null references servers (id) on delete cascade,
      source_login text not null,
      dest_server_id integer not null references servers (id) on delete cascade,
      dest_login text not null,
      source_folder text not null,
      dest_folder text not null,
      proof jsonb not null,
      updated_at timestamptz not null default now(),
      primary key (source_server_id, source_login, dest_server_id, dest_login, source_folder, dest_folder)
    );
  `.execute(db);
}
