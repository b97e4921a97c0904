import {
  createConsoleLogger,
  createVault,
  errorMessage,
  type KeyedVault,
  keyIdOf,
  type Logger,
  loadOrCreateKeyFile,
  parseDenyHosts,
  parseSecretKey,
  type ResolvedEngine,
  resolveEngine,
  type ServiceContext,
  systemClock,
} from "@imapferry/core";
import {
  type DatabaseHandle,
  describeDatabaseUrl,
  type EmbeddedDatabase,
  findRunningEmbeddedDatabase,
  migrateToLatest,
  openDatabase,
  startEmbeddedDatabase,
} from "@imapferry/db";
import type { Config } from "./config.ts";

export interface Runtime {
  config: Config;
  ctx: ServiceContext & { vault: KeyedVault };
  database: DatabaseHandle;
  engine: ResolvedEngine;
  /** "external" for DATABASE_URL, "embedded" for the zero-config server in the data directory. */
  databaseKind: "external" | "embedded";
  close(): Promise<void>;
}

/** An operator's mistake (bad URL, unwritable folder, port in use): printed as one line, no stack. */
export class StartupError extends Error {}

/**
 * Without DATABASE_URL, what to do about the embedded database of the data directory:
 * "own" starts it (imapferry start); "join" connects to the one a running `imapferry start` owns
 * (imapferry worker); "join-or-own" joins it if running, else starts it for the command's duration.
 */
export type EmbeddedMode = "own" | "join" | "join-or-own";

export interface OpenRuntimeOptions {
  /** @defaultValue "join-or-own" */
  embedded?: EmbeddedMode;
  log?: Logger;
}

/**
 * Everything a command needs: the database (DATABASE_URL or the embedded one, migrated), the vault and
 * the engine. The caller owns the runtime and closes it; a failure part-way closes what was opened.
 */
export async function openRuntime(config: Config, options: OpenRuntimeOptions = {}): Promise<Runtime> {
  const log = options.log ?? createConsoleLogger();
  const mode = options.embedded ?? "join-or-own";
  const cleanups: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    let embedded: EmbeddedDatabase | undefined;
    let connectionString = config.databaseUrl;
    if (!connectionString && mode !== "own") {
      connectionString = (await findRunningEmbeddedDatabase(config.dataDir))?.connectionString;
      if (!connectionString && mode === "join") {
        throw new StartupError(
          `Set DATABASE_URL, or run this next to a running \`imapferry start\` with the same data directory (${config.dataDir}).`,
        );
      }
    }
    if (!connectionString) {
      embedded = await startEmbeddedDatabase({ dataDir: config.dataDir }).catch((e: unknown) => {
        throw new StartupError(
          e instanceof Error && e.name === "DataDirectoryError"
            ? e.message
            : `Could not start the embedded PostgreSQL in ${config.dataDir}: ${errorMessage(e)}. Set DATABASE_URL to use your own PostgreSQL instead.`,
        );
      });
      cleanups.push(() => embedded!.stop());
      connectionString = embedded.connectionString;
      log.info("embedded PostgreSQL started", { dataDir: config.dataDir, port: embedded.port });
    }
    const database = openDatabase(connectionString);
    cleanups.push(() => database.close());
    await checkConnection(
      database,
      embedded ? "the embedded PostgreSQL" : describeDatabaseUrl(connectionString),
    );
    await migrateToLatest(database);

    const vault = createVault(await loadKeys(config, log));
    const engine = await resolveEngine({
      engine: config.engine,
      ...(config.imapsyncBin ? { imapsyncBin: config.imapsyncBin } : {}),
    });
    const ctx = {
      db: database.db,
      pool: database.pool,
      vault,
      log,
      clock: systemClock,
      denyHosts: parseDenyHosts(config.denyHosts),
    };
    return {
      config,
      ctx,
      database,
      engine,
      databaseKind: config.databaseUrl ? "external" : "embedded",
      close: closeAll,
    };
  } catch (e: unknown) {
    await closeAll();
    throw e;
  }
}

/**
 * IMAPFERRY_SECRET_KEY holds one base64 key, or several separated by commas while rotating: the first
 * encrypts, the others still decrypt. Without it, a key file in the data directory (created on first use).
 */
async function loadKeys(config: Config, log: Logger) {
  if (config.secretKey) {
    const parts = config.secretKey
      .split(",")
      .map((part, i) => parseSecretKey(part, `IMAPFERRY_SECRET_KEY (key ${i + 1})`));
    const keys = Object.fromEntries(parts.map((key) => [keyIdOf(key), key]));
    return { keys, currentKeyId: keyIdOf(parts[0]!) };
  }
  return loadOrCreateKeyFile(config.dataDir, log);
}

async function checkConnection(database: DatabaseHandle, where: string): Promise<void> {
  try {
    await database.pool.query("select 1");
  } catch (e: unknown) {
    const code = (e as { code?: string }).code;
    const hint =
      code === "ECONNREFUSED"
        ? "refused the connection. Is PostgreSQL running there, and listening on that address?"
        : code === "ENOTFOUND" || code === "EAI_AGAIN"
          ? "could not be resolved. Check the host name in DATABASE_URL."
          : code === "ETIMEDOUT"
            ? "did not answer in time. Check the host, the port and any firewall in between."
            : code === "28P01" || code === "28000"
              ? "rejected the user name or password in DATABASE_URL."
              : code === "3D000"
                ? "has no such database. Create it (createdb) or fix the database name in DATABASE_URL."
                : `could not be reached (${errorMessage(e)}).`;
    throw new StartupError(`DATABASE_URL points to ${where}, which ${hint}`);
  }
}
