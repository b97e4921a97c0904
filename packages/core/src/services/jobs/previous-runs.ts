import type { JobStatus } from "@imapferry/db";
import { sql } from "kysely";
import type { ServiceContext } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import { parseInput } from "../validation.ts";
import { jobIdInputSchema } from "./schemas.ts";

/** An earlier run of the same mailbox, for the job page's "Previous runs". */
export interface PreviousRun {
  id: number;
  status: JobStatus;
  dryRun: boolean;
  createdAt: Date;
  finishedAt: Date | null;
  errorMessage: string | null;
}

/**
 * The runs this job replaced, newest first: in a batch, the earlier runs of its mailbox pair (which it
 * supersedes); anywhere, the jobs it reran, and the ones those reran. Deleted runs are left out.
 */
export async function listPreviousRuns(
  ctx: Pick<ServiceContext, "db">,
  input: unknown,
): Promise<PreviousRun[]> {
  const { id } = parseInput(jobIdInputSchema, input, "job id");
  const job = await ctx.db
    .selectFrom("jobs")
    .select("id")
    .where("id", "=", id)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  if (!job) throw new ImapferryError("NOT_FOUND", `There is no job ${id}.`);
  const rows = await sql<{
    id: number;
    status: JobStatus;
    dry_run: boolean;
    created_at: Date;
    finished_at: Date | null;
    error_message: string | null;
  }>`
    with recursive reran(id) as (
      select rerun_of from jobs where id = ${id} and rerun_of is not null
      union
      select j.rerun_of from jobs j join reran r on j.id = r.id where j.rerun_of is not null
    )
    select id, status, dry_run, created_at, finished_at, error_message from jobs
    where deleted_at is null and id < ${id}
      and (superseded_by = ${id} or id in (select id from reran))
    order by id desc
    limit 200`.execute(ctx.db);
  return rows.rows.map((r) => ({
    id: r.id,
    status: r.status,
    dryRun: r.dry_run,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    errorMessage: r.error_message,
  }));
}
