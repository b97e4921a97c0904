export type { TestDatabase } from "./test-database.ts";
export { createEmptyTestDatabase, createTestDatabase, setupTestDatabaseServer } from "./test-database.ts";
