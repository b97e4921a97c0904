import type { Kysely } from "kysely";
import type pg from "pg";
import { type DatabaseHandle, openDatabase } from "./pool.ts";
import type { Database } from "./schema.ts";

/** A call through a {@link BoundedDatabase} ran past its deadline. */
export class DatabaseTimeoutError extends Error {
  readonly code = "ETIMEDOUT";
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`The database did not answer ${what} within ${timeoutMs} ms.`);
    this.name = "DatabaseTimeoutError";
  }
}

/**
 * A small pool of its own for calls that must come back in time whatever the network does: the lease
 * heartbeat, the health check. A call past its deadline fails at once, and the pool it ran on is
 * abandoned (closed in the background, its hung connection with it), so the next call connects
 * afresh instead of queueing behind a query that may never return. Its own pool also means a main
 * pool full of stuck queries cannot starve it.
 */
export interface BoundedDatabase {
  /** Runs `work` with a deadline; rejects with DatabaseTimeoutError when it passes. */
  run<T>(what: string, work: (db: Kysely<Database>) => Promise<T>, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export interface BoundedDatabaseOptions {
  /** The deadline of a call that names none; also bounds each connect and each query. */
  timeoutMs: number;
  /** @defaultValue 2 */
  maxConnections?: number;
}

/** `connection` is a URL or another pool's settings (`pool.options`). The caller closes it. */
export function openBoundedDatabase(
  connection: string | pg.PoolConfig,
  options: BoundedDatabaseOptions,
): BoundedDatabase {
  let current: DatabaseHandle | null = null;
  let closed = false;

  function handle(): DatabaseHandle {
    current ??= openDatabase(connection, {
      maxConnections: options.maxConnections ?? 2,
      connectTimeoutMs: options.timeoutMs,
      queryTimeoutMs: options.timeoutMs,
      // A call abandoned mid-transaction must not keep its row locks on the server either.
      idleInTransactionTimeoutMs: options.timeoutMs,
    });
    return current;
  }

  function abandon(stale: DatabaseHandle): void {
    if (current === stale) current = null;
    // Not awaited: ending a pool waits for its hung connection, which may take as long as the fault.
    void stale.close().catch(() => {});
  }

  return {
    async run(what, work, timeoutMs = options.timeoutMs) {
      if (closed) throw new Error("The bounded database was closed.");
      const used = handle();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new DatabaseTimeoutError(what, timeoutMs)), timeoutMs);
      });
      const call = work(used.db);
      try {
        return await Promise.race([call, deadline]);
      } catch (e: unknown) {
        // A timed-out call goes on in the background; its outcome no longer matters to anyone.
        call.catch(() => {});
        if (e instanceof DatabaseTimeoutError) abandon(used);
        throw e;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      closed = true;
      const last = current;
      current = null;
      if (last) {
        // A connection that hangs must not hang the caller's shutdown too.
        await Promise.race([
          last.close().catch(() => {}),
          new Promise((resolve) => setTimeout(resolve, options.timeoutMs).unref()),
        ]);
      }
    },
  };
}
