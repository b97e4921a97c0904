import { tenantsOfJobs } from "@imapferry/core";
import type { RouterDeps } from "../trpc/router-deps.ts";
import type { JobStreamEvent } from "./job-stream-event.ts";

/** Jobs whose tenant one stream remembers; past this it forgets them all and asks again. */
const MAX_REMEMBERED_JOBS = 100_000;

/**
 * A stream that first runs `check` (a tenant's token asking for a job or batch it may not see fails
 * there, before anything is sent) and then is `events`. The inner generator's body only starts after
 * the check, so a refused stream subscribes to nothing.
 */
export async function* afterScopeCheck<T>(check: () => Promise<void>, events: AsyncGenerator<T>) {
  await check();
  return yield* events;
}

/**
 * Only the job events of `tenant`'s jobs. Job events carry no tenant (the NOTIFY payload is shared with
 * every listener), so each job's tenant is read once and remembered: a job never changes tenant.
 */
export async function* onlyTenantJobEvents(
  deps: Pick<RouterDeps, "ctx">,
  tenant: string,
  events: AsyncIterable<JobStreamEvent>,
): AsyncGenerator<JobStreamEvent> {
  const tenants = new Map<number, string | null>();
  for await (const event of events) {
    if (event.type !== "job") {
      yield event;
      continue;
    }
    if (!tenants.has(event.jobId)) {
      if (tenants.size >= MAX_REMEMBERED_JOBS) tenants.clear();
      const found = await tenantsOfJobs(deps.ctx, [event.jobId]);
      // A job deleted for good before we asked: nobody can tell whose it was, so nobody is told.
      tenants.set(event.jobId, found.get(event.jobId) ?? null);
    }
    if (tenants.get(event.jobId) === tenant) yield event;
  }
}
