import { once } from "node:events";
import { migrateToLatest, openDatabase } from "../../src/index.ts";

/*
 * One imapferry process starting up, reduced to its migration: connects to the database in argv[2],
 * says "ready", waits for a line on stdin (so the test can release several processes at the same
 * moment), migrates and prints what it applied as JSON.
 */
const connectionString = process.argv[2];
if (!connectionString) throw new Error("usage: migrate-process.ts <connection string>");
const database = openDatabase(connectionString);
try {
  await database.pool.query("select 1");
  process.stdout.write("ready\n");
  await once(process.stdin, "data");
  const result = await migrateToLatest(database);
  process.stdout.write(`${JSON.stringify(result.applied)}\n`);
} finally {
  await database.close();
}
