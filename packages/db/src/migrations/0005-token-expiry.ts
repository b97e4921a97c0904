import { type Kysely, sql } from "kysely";

// Frozen in time: migrations use Kysely<any>, never the live Database type.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // An API token may expire; null keeps today's tokens working until they are revoked.
  await sql`alter table api_tokens add column expires_at timestamptz`.execute(db);
}
