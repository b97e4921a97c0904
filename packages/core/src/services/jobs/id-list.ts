import { sql } from "kysely";

/**
 * `column = any($1::int[])`: one parameter however many ids (a batch of 50,000 jobs would pass
 * PostgreSQL's 65,535-parameter limit as an IN list).
 */
export function idIn(column: "id" | "jobs.id", ids: readonly number[]) {
  return sql<boolean>`${sql.ref(column)} = any(${sql.val([...ids])}::int[])`;
}
