import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateToLatest, openDatabase } from "../src/index.ts";
import { migrations } from "../src/migrations/index.ts";
import { createEmptyTestDatabase, type TestDatabase } from "../src/testing/index.ts";

const DATA_MODEL_TABLES = [
  "servers",
  "batches",
  "jobs",
  "job_logs",
  "workers",
  "users",
  "sessions",
  "api_tokens",
  "settings",
];

async function publicTables(database: TestDatabase): Promise<string[]> {
  const tables = await database.pool.query<{ table_name: string }>(
    "select table_name from information_schema.tables where table_schema = 'public' order by 1",
  );
  return tables.rows.map((row) => row.table_name);
}

describe("migrations", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createEmptyTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  it("apply to an empty database, then re-apply as a no-op", async () => {
    const first = await migrateToLatest(database);
    expect(first.applied).toContain("0001-initial");
    expect(await publicTables(database)).toEqual(expect.arrayContaining(DATA_MODEL_TABLES));
    const graphile = await database.pool.query(
      "select 1 from information_schema.schemata where schema_name = 'graphile_worker'",
    );
    expect(graphile.rowCount).toBe(1);
    const second = await migrateToLatest(database);
    expect(second.applied).toEqual([]);
  });

  it("rejects a job with an unknown status and duplicate log offsets", async () => {
    await database.pool.query(
      "insert into servers (name, host, port, security) values ('s', 'localhost', 143, 'none')",
    );
    const insertJob = (status: string) =>
      database.pool.query(
        `insert into jobs (source_server_id, source_email, source_secret, dest_server_id, dest_email, dest_secret, status)
         values (1, 'a@x', 'v1:x', 1, 'b@x', 'v1:y', $1) returning id`,
        [status],
      );
    await expect(insertJob("sleeping")).rejects.toThrow(/check constraint/);
    const { rows } = await insertJob("queued");
    const jobId = rows[0].id;
    await database.pool.query("insert into job_logs (job_id, byte_offset, chunk) values ($1, 0, 'a')", [
      jobId,
    ]);
    await expect(
      database.pool.query("insert into job_logs (job_id, byte_offset, chunk) values ($1, 0, 'b')", [jobId]),
    ).rejects.toThrow(/duplicate key/);
  });
});

describe("two processes migrating at once", () => {
  it("both succeed and the schema is applied once", async () => {
    const database = await createEmptyTestDatabase();
    const a = openDatabase(database.connectionString);
    const b = openDatabase(database.connectionString);
    try {
      const [ra, rb] = await Promise.all([migrateToLatest(a), migrateToLatest(b)]);
      expect([...ra.applied, ...rb.applied]).toEqual(Object.keys(migrations));
    } finally {
      await a.close();
      await b.close();
      await database.drop();
    }
  });
});

const MIGRATE_PROCESS = fileURLToPath(new URL("./support/migrate-process.ts", import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

interface MigrateProcess {
  child: ChildProcess;
  /** Resolves once the process has connected and waits for the go. */
  ready: Promise<void>;
  done: Promise<{ code: number | null; output: string }>;
}

function startMigrateProcess(connectionString: string): MigrateProcess {
  const child = spawn(process.execPath, ["--import", TSX, MIGRATE_PROCESS, connectionString], {
    env: { PATH: process.env.PATH },
    stdio: ["pipe", "pipe", "pipe"],
  });
  // A process that died early closes its stdin: writing the go to it must not fail the test runner.
  child.stdin?.on("error", function ignoreClosedStdin() {});
  let output = "";
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const done = new Promise<{ code: number | null; output: string }>((resolve) => {
    child.on("close", function onMigrateProcessClose(code) {
      resolve({ code, output });
    });
  });
  function take(chunk: Buffer): void {
    output += chunk.toString("utf8");
    if (output.includes("ready\n")) markReady();
  }
  child.stdout?.on("data", take);
  child.stderr?.on("data", take);
  return {
    child,
    // A process that dies before it is ready settles `ready` too, so the test reports its output.
    ready: Promise.race([ready, done.then(() => undefined)]),
    done,
  };
}

describe("two real processes migrating at once", () => {
  it("both exit 0 on a fresh empty database and the schema is applied exactly once", async () => {
    const database = await createEmptyTestDatabase();
    const processes = [
      startMigrateProcess(database.connectionString),
      startMigrateProcess(database.connectionString),
    ];
    try {
      await Promise.all(processes.map((p) => p.ready));
      // Both are connected: release them together.
      for (const p of processes) p.child.stdin?.end("go\n");
      const results = await Promise.all(processes.map((p) => p.done));
      for (const result of results) expect(result.code, result.output).toBe(0);

      const applied = results.map(
        (result) => JSON.parse(result.output.split("\n").at(-2) ?? "[]") as string[],
      );
      // One process applied everything, the other found nothing left to do.
      expect(applied.flat()).toEqual(Object.keys(migrations));
      expect(applied.map((list) => list.length).sort()).toEqual([0, Object.keys(migrations).length]);

      const recorded = await database.pool.query<{ name: string }>(
        "select name from kysely_migration order by name",
      );
      expect(recorded.rows.map((row) => row.name)).toEqual(Object.keys(migrations));
      expect(await publicTables(database)).toEqual(expect.arrayContaining(DATA_MODEL_TABLES));
      const graphileMigrations = await database.pool.query<{ id: number; count: string }>(
        "select id, count(*) from graphile_worker.migrations group by id having count(*) > 1",
      );
      expect(graphileMigrations.rows).toEqual([]);
      // And a third start finds the schema complete.
      expect((await migrateToLatest(database)).applied).toEqual([]);
    } finally {
      for (const p of processes) if (p.child.exitCode === null) p.child.kill("SIGKILL");
      await Promise.all(processes.map((p) => p.done));
      await database.drop();
    }
  });
});
