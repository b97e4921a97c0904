import type { Database } from "@imapferry/db";
import { type Kysely, sql } from "kysely";
import { CHANNELS } from "../../events/channels.ts";

/**
 * Tells every API process that some of a user's credentials stopped working (a session ended, a token
 * was revoked, the password was reset), in the same transaction as the change: their open live streams
 * authenticate again and end if they no longer may run.
 */
export async function notifyCredentialsEnded(db: Kysely<Database>, userId: number): Promise<void> {
  await sql`select pg_notify(${CHANNELS.credentials}, ${JSON.stringify({ userId })})`.execute(db);
}
