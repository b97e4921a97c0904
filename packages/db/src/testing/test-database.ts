import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import {
  type DatabaseHandle,
  type EmbeddedDatabase,
  migrateToLatest,
  openDatabase,
  startEmbeddedDatabase,
} from "../index.ts";

/** Env var through which the global setup hands the server URL to every test file. */
const SERVER_URL_VAR = "IMAPFERRY_TEST_SERVER_URL";
const TEMPLATE_LOCK_ID = 0x1a9f_7e57;

export interface TestDatabase extends DatabaseHandle {
  name: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/**
 * The PostgreSQL server the tests use: TEST_DATABASE_URL or DATABASE_URL when given, else one embedded
 * server for the whole run. Call from a vitest globalSetup; returns the teardown.
 */
export async function setupTestDatabaseServer(): Promise<() => Promise<void>> {
  const given = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  let embedded: EmbeddedDatabase | undefined;
  let dataDir: string | undefined;
  if (given) {
    process.env[SERVER_URL_VAR] = given;
  } else {
    dataDir = await mkdtemp(path.join(tmpdir(), "imapferry-test-pg-"));
    embedded = await startEmbeddedDatabase({ dataDir });
    process.env[SERVER_URL_VAR] = embedded.connectionString;
  }
  const runId = randomBytes(4).toString("hex");
  process.env.IMAPFERRY_TEST_RUN = runId;
  return async function teardownTestDatabaseServer() {
    await dropDatabasesOfRun(runId).catch(() => {});
    await embedded?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
}

function serverUrl(): string {
  const url = process.env[SERVER_URL_VAR] ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) {
    throw new Error(
      "No test database server: add @imapferry/db/testing/global-setup to vitest globalSetup, or set TEST_DATABASE_URL.",
    );
  }
  return url;
}

function urlForDatabase(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

function runId(): string {
  return process.env.IMAPFERRY_TEST_RUN ?? "adhoc";
}

async function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A database name unique to this run, so `dropDatabasesOfRun` finds it. */
function newTestDatabaseName(): string {
  return `imapferry_t_${runId()}_${randomBytes(4).toString("hex")}`;
}

/** Opens the test database `name`; its `drop()` closes the handle and drops the database. */
function openTestDatabase(name: string): TestDatabase {
  const handle = openDatabase(urlForDatabase(serverUrl(), name));
  return {
    ...handle,
    name,
    async drop() {
      await handle.close();
      await withAdminClient((admin) => admin.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

/**
 * A fresh, fully migrated database for one test file, cloned from a template migrated once per run
 * (graphile-worker's approach: cloning is much faster than migrating).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = `imapferry_tpl_${runId()}`;
  const name = newTestDatabaseName();
  await withAdminClient(async (admin) => {
    await admin.query("select pg_advisory_lock($1)", [TEMPLATE_LOCK_ID]);
    try {
      const found = await admin.query("select 1 from pg_database where datname = $1", [template]);
      if (found.rowCount === 0) {
        await admin.query(`create database "${template}"`);
        const handle = openDatabase(urlForDatabase(serverUrl(), template), { maxConnections: 2 });
        try {
          await migrateToLatest(handle);
        } finally {
          await handle.close();
        }
      }
      await admin.query(`create database "${name}" template "${template}"`);
    } finally {
      await admin.query("select pg_advisory_unlock($1)", [TEMPLATE_LOCK_ID]);
    }
  });
  return openTestDatabase(name);
}

/** An empty database (no migrations), for tests of migrating itself. */
export async function createEmptyTestDatabase(): Promise<TestDatabase> {
  const name = newTestDatabaseName();
  await withAdminClient((admin) => admin.query(`create database "${name}"`));
  return openTestDatabase(name);
}

async function dropDatabasesOfRun(id: string): Promise<void> {
  await withAdminClient(async (admin) => {
    const { rows } = await admin.query<{ datname: string }>(
      "select datname from pg_database where datname like $1 or datname = $2",
      [`imapferry_t_${id}_%`, `imapferry_tpl_${id}`],
    );
    for (const row of rows) await admin.query(`drop database if exists "${row.datname}" with (force)`);
  });
}
