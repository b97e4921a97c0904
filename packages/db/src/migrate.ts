import { Logger, runMigrations as runGraphileWorkerMigrations } from "graphile-worker";
import { Migrator } from "kysely/migration";
import { migrations } from "./migrations/index.ts";
import type { DatabaseHandle } from "./pool.ts";

/** Arbitrary constant shared by every imapferry process: the advisory lock that serialises migrations. */
const MIGRATION_LOCK_ID = 0x1a9f_e77e;

const silentGraphileLogger = new Logger(() => () => {});

export interface MigrationResult {
  applied: string[];
}

/**
 * Brings the database to the latest schema: our tables, then graphile-worker's. Safe to call from any
 * number of processes at once: a session advisory lock makes them take turns, and the second finds
 * nothing to do. Kysely's own lock is taken only after it creates its bookkeeping tables, which two
 * processes can otherwise race on.
 */
export async function migrateToLatest(handle: DatabaseHandle): Promise<MigrationResult> {
  const lockClient = await handle.pool.connect();
  try {
    await lockClient.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_ID]);
    try {
      const migrator = new Migrator({
        db: handle.db,
        provider: { getMigrations: async () => migrations },
        // Migration numbers are handed out per piece of work and land in whatever order the work
        // merges (0015 before 0012): a database that already has a later one still takes an earlier
        // one that arrives after it. Each migration stands on its own, so their order does not matter.
        allowUnorderedMigrations: true,
      });
      const { error, results } = await migrator.migrateToLatest();
      if (error) {
        const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
        throw new Error(
          `Database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      await runGraphileWorkerMigrations({ pgPool: handle.pool, logger: silentGraphileLogger });
      return { applied: (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName) };
    } finally {
      await lockClient.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_ID]);
    }
  } finally {
    lockClient.release();
  }
}
