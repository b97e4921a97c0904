import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateToLatest, openDatabase } from "../src/index.ts";
import { createEmptyTestDatabase, type TestDatabase } from "../src/testing/index.ts";

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
    const tables = await database.pool.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'public' order by 1",
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        "servers",
        "batches",
        "jobs",
        "job_logs",
        "workers",
        "users",
        "sessions",
        "api_tokens",
        "settings",
      ]),
    );
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
      expect([...ra.applied, ...rb.applied]).toEqual(["0001-initial", "0004-notifications"]);
    } finally {
      await a.close();
      await b.close();
      await database.drop();
    }
  });
});
