import { type Kysely, sql } from "kysely";

// Frozen in time: migrations use Kysely<any>, never the live Database type.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // 'incomplete': the run ended, but the destination does not hold every source message in scope
  // (refused by the destination, over the size limit, left behind by the engine). It is never 'done'.
  // verification: what the check after the run found, per folder (counts, sizes, missing messages).
  await sql`
    alter table jobs drop constraint jobs_status_check;
    alter table jobs add constraint jobs_status_check
      check (status in ('queued', 'running', 'done', 'incomplete', 'failed', 'cancelled', 'interrupted'));
    alter table jobs add column verification jsonb;
  `.execute(db);
}
