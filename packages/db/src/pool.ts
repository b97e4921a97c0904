import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "./schema.ts";

// int8 (bigint) values such as log offsets stay strings by default; counts we read are small enough
// to be numbers, but offsets can pass 2^53 only in theory, so we leave int8 as text and convert where read.

export interface DatabaseHandle {
  db: Kysely<Database>;
  pool: pg.Pool;
  connectionString: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** @defaultValue 10 */
  maxConnections?: number;
}

/** Opens a pooled connection to PostgreSQL. The caller owns the handle and must close it. */
export function openDatabase(connectionString: string, options: OpenDatabaseOptions = {}): DatabaseHandle {
  const pool = new pg.Pool({ connectionString, max: options.maxConnections ?? 10 });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on("error", function onIdleClientError() {});
  pool.on("connect", function watchClientErrors(client) {
    client.on("error", function onClientError() {});
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    db,
    pool,
    connectionString,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

/** "10.0.0.5:5432" from a connection string, for error messages; never includes the password. */
export function describeDatabaseUrl(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    const host = url.hostname || url.searchParams.get("host") || "localhost";
    return `${host}:${url.port || "5432"}${url.pathname}`;
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}
