import { sql } from "kysely";
import type { ServiceContext } from "../../context.ts";
import { type RecordWatchInput, recordWatchInputSchema } from "./schemas.ts";

/** A notification is suppressed when its job (or its batch) was watched this recently. */
export const WATCH_WINDOW_SECONDS = 60;

/**
 * A watch is written at most this often per job or view: jobs.get and jobs.list are called a lot, and
 * the jobs row is also updated by progress writes. Well under WATCH_WINDOW_SECONDS, so it never matters.
 */
const WATCH_WRITE_INTERVAL_SECONDS = 5;

/** Scope of the watch mark for a batch (its page, a jobs.events subscription filtered to it). */
export function batchScope(batchId: number): string {
  return `batch:${batchId}`;
}

/**
 * Records that someone is watching: specific jobs (jobs.get, the page jobs.list returned, a
 * jobs.events/logs.tail subscription for a job) or whole batches (prefer this to listing a batch's job
 * ids). There is deliberately no "every job" mark: an API client polling the jobs list would otherwise
 * silence every email for good. Stored in the database with the database's clock, so workers on other
 * machines see it and clock skew between machines does not matter. Cheap to call often: writes are
 * skipped when the previous watch is only a few seconds old.
 */
export async function recordWatch(ctx: Pick<ServiceContext, "db">, input: RecordWatchInput): Promise<void> {
  const { jobIds, batchIds } = recordWatchInputSchema.parse(input);
  const fresh = sql<Date>`now() - make_interval(secs => ${WATCH_WRITE_INTERVAL_SECONDS})`;
  if (jobIds && jobIds.length > 0) {
    await ctx.db
      .updateTable("jobs")
      .set({ last_watched_at: sql<Date>`now()` })
      .where("id", "in", [...new Set(jobIds)])
      .where((eb) => eb.or([eb("last_watched_at", "is", null), eb("last_watched_at", "<", fresh)]))
      .execute();
  }
  const scopes = [...new Set((batchIds ?? []).map(batchScope))];
  if (scopes.length > 0) {
    await ctx.db
      .insertInto("watch_marks")
      .values(scopes.map((scope) => ({ scope, watched_at: sql<Date>`now()` })))
      .onConflict((oc) =>
        oc
          .column("scope")
          .doUpdateSet({ watched_at: sql<Date>`now()` })
          .where("watch_marks.watched_at", "<", fresh),
      )
      .execute();
  }
}
