import type { ServiceContext } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import type { Principal } from "./sessions.ts";

/*
 * What a tenant's token sees: the jobs and batches whose `tenant` is its own, nothing else. Everything
 * of another tenant answers as if it did not exist (NOT_FOUND with the service's own sentence), so a
 * token cannot probe which ids other tenants have. People and tokens without a tenant see everything.
 */

/**
 * The tenant a list is filtered to, or a new job or batch is created in: the caller's own when it is
 * bound to one (FORBIDDEN when it asks for another), else the one it asked for.
 */
export function scopedTenant(caller: Principal, requested: string | undefined): string | undefined {
  if (caller.tenant === null) return requested;
  if (requested !== undefined && requested !== caller.tenant) {
    throw new ImapferryError(
      "FORBIDDEN",
      `This token is bound to tenant "${caller.tenant}": it cannot see or create anything of tenant "${requested}".`,
    );
  }
  return caller.tenant;
}

/** NOT_FOUND for the first of `jobIds` outside the caller's tenant (deleted jobs included). */
export async function assertJobsInScope(
  ctx: Pick<ServiceContext, "db">,
  caller: Principal,
  jobIds: readonly number[],
): Promise<void> {
  if (caller.tenant === null || jobIds.length === 0) return;
  const inScope = await ctx.db
    .selectFrom("jobs")
    .select("id")
    .where("id", "in", [...new Set(jobIds)])
    .where("tenant", "=", caller.tenant)
    .execute();
  const visible = new Set(inScope.map((row) => row.id));
  const hidden = jobIds.find((id) => !visible.has(id));
  if (hidden !== undefined) throw new ImapferryError("NOT_FOUND", `There is no job ${hidden}.`);
}

/** NOT_FOUND when the batch is outside the caller's tenant. */
export async function assertBatchInScope(
  ctx: Pick<ServiceContext, "db">,
  caller: Principal,
  batchId: number,
): Promise<void> {
  if (caller.tenant === null) return;
  const row = await ctx.db
    .selectFrom("batches")
    .select("id")
    .where("id", "=", batchId)
    .where("tenant", "=", caller.tenant)
    .executeTakeFirst();
  if (!row) throw new ImapferryError("NOT_FOUND", `There is no batch ${batchId}.`);
}

/** The tenants of these jobs (those that still have a row), for filtering live events. */
export async function tenantsOfJobs(
  ctx: Pick<ServiceContext, "db">,
  jobIds: readonly number[],
): Promise<Map<number, string | null>> {
  if (jobIds.length === 0) return new Map();
  const rows = await ctx.db
    .selectFrom("jobs")
    .select(["id", "tenant"])
    .where("id", "in", [...new Set(jobIds)])
    .execute();
  return new Map(rows.map((row) => [row.id, row.tenant]));
}
