import { type Kysely, sql } from "kysely";

// Frozen in time: migrations use Kysely<any>, never the live Database type.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // What makes a worker's (hostname, pid) one process and not another: the kernel's boot id, the pid
  // namespace (containers sharing a host name each have their own pids) and the process's start time
  // in clock ticks since boot (a pid reused later starts later). Null where /proc does not tell.
  // exited_at: when a process on the same host saw that process gone (its jobs need not wait for the lease).
  await sql`
    alter table workers add column boot_id text;
    alter table workers add column pid_namespace text;
    alter table workers add column process_start text;
    alter table workers add column exited_at timestamptz;
  `.execute(db);
}
