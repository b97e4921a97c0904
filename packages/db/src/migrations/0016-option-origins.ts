import { type Kysely, sql } from "kysely";

// Frozen in time: migrations use Kysely<any>, never the live Database type.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // Where each engine option a job runs with came from: its own settings ("job", or "row" of a CSV),
  // its batch's, the installation's defaults ("settings"); options absent here have their built-in
  // default. Jobs from before keep their options as their own: a rerun keeps running with them.
  await sql`
    alter table jobs add column option_origins jsonb not null default '{}'::jsonb;
    update jobs set option_origins = coalesce(
      (select jsonb_object_agg(key, 'job') from jsonb_object_keys(jobs.options) as key), '{}'::jsonb)
    where options <> '{}'::jsonb;
  `.execute(db);
}
