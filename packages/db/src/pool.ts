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
  /**
   * How long opening a connection (or waiting for a free one in the pool) may take before it fails.
   * Without it, a server whose packets are dropped (a partition, a stuck NAT) hangs the caller forever.
   * @defaultValue 15000
   */
  connectTimeoutMs?: number;
  /**
   * A client-side limit on each query: past it the query fails, whatever the network does. Meant for
   * small pools with a single purpose (a lease heartbeat, a health check), not for the main pool,
   * whose legitimate queries (migrations, imports) can be long. @defaultValue none
   */
  queryTimeoutMs?: number;
  /**
   * The server ends a session that sits inside a transaction doing nothing for this long. A client
   * cut off mid-transaction (its COMMIT stuck in a frozen network) would otherwise hold its row locks
   * for as long as the server keeps the connection, blocking everyone else's recovery of its jobs.
   * @defaultValue 30000
   */
  idleInTransactionTimeoutMs?: number;
}

/** How long an idle connection waits before the first TCP keepalive probe. */
const KEEPALIVE_DELAY_MS = 10_000;

/**
 * Opens a pooled connection to PostgreSQL. The caller owns the handle and must close it. `connection`
 * is a URL, or the settings of another pool (`pool.options`) to open a sibling with its own limits.
 */
export function openDatabase(
  connection: string | pg.PoolConfig,
  options: OpenDatabaseOptions = {},
): DatabaseHandle {
  const base: pg.PoolConfig = typeof connection === "string" ? { connectionString: connection } : connection;
  const pool = new pg.Pool({
    ...base,
    max: options.maxConnections ?? 10,
    // Keepalive lets the kernel find a connection whose server vanished without a word (no FIN, no
    // RST), which would otherwise look alive for as long as nothing is sent on it.
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 15_000,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? 30_000,
    ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}),
  });
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
    connectionString: base.connectionString ?? "",
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
