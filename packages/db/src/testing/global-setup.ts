import { setupTestDatabaseServer } from "./test-database.ts";

/** vitest globalSetup: one PostgreSQL server for the run (given or embedded), torn down after. */
export default async function setup(): Promise<() => Promise<void>> {
  return setupTestDatabaseServer();
}
