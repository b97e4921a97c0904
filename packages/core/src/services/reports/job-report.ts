import type { JobStatus, Verification } from "@imapferry/db";
import type { ServiceContext } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import { parseInput } from "../validation.ts";
import { reportInputSchema } from "./schemas.ts";

/** What a job's last run did and what the check after it found: the proof an operator hands on. */
export interface JobReport {
  id: number;
  name: string;
  sourceEmail: string;
  destEmail: string;
  status: JobStatus;
  dryRun: boolean;
  attempt: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** The sentence an operator reads (why it failed, what is missing, what a dry run would do). */
  sentence: string | null;
  /** The engine's statistics (copied, skipped, bytes, errors, …). */
  stats: Record<string, unknown> | null;
  /** Per folder: messages and bytes on each side, and the source messages not on the destination. */
  verification: Verification | null;
}

/** The report of one job; NOT_FOUND with a sentence for an id that names no job. */
export async function getJobReport(ctx: Pick<ServiceContext, "db">, input: unknown): Promise<JobReport> {
  const { id } = parseInput(reportInputSchema, input, "job report");
  const row = await ctx.db
    .selectFrom("jobs")
    .select([
      "id",
      "name",
      "source_email",
      "dest_email",
      "status",
      "dry_run",
      "attempt",
      "started_at",
      "finished_at",
      "error_message",
      "stats",
      "verification",
    ])
    .where("id", "=", id)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  if (!row) throw new ImapferryError("NOT_FOUND", `There is no job ${id}, so there is no report for it.`);
  return {
    id: row.id,
    name: row.name,
    sourceEmail: row.source_email,
    destEmail: row.dest_email,
    status: row.status,
    dryRun: row.dry_run,
    attempt: row.attempt,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    sentence: row.error_message,
    stats: row.stats,
    verification: row.verification,
  };
}
