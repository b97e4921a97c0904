import type { Database, JobStatus, Verification } from "@imapferry/db";
import { type Kysely, sql } from "kysely";
import type { ServiceContext } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import { parseInput } from "../validation.ts";
import { reportInputSchema } from "./schemas.ts";

/** One mailbox of a batch: the latest run of its source → destination pair. */
export interface BatchReportRow {
  jobId: number;
  source: string;
  sourceServer: string;
  destination: string;
  destServer: string;
  status: JobStatus;
  dryRun: boolean;
  /** From the check after the run; null when none ran (dry run, failure, still running). */
  sourceMessages: number | null;
  sourceBytes: number | null;
  destMessages: number | null;
  destBytes: number | null;
  missing: number | null;
  copied: number;
  skipped: number;
  /** "2 over maxMessageBytes; 1 refused by the destination" (what is missing and why). */
  skippedReasons: string;
  errors: number;
  durationSeconds: number | null;
  /** Attempts of this run (resumes after a worker died) plus the earlier runs it reran. */
  attempts: number;
  lastRunAt: Date | null;
  sentence: string | null;
}

export interface BatchReport {
  batchId: number;
  tag: string;
  rows: BatchReportRow[];
  totals: {
    mailboxes: number;
    byStatus: Partial<Record<JobStatus, number>>;
    missing: number;
    copied: number;
  };
}

interface ReportRowSource {
  id: number;
  source_email: string;
  source_server: string;
  dest_email: string;
  dest_server: string;
  status: JobStatus;
  dry_run: boolean;
  stats: Record<string, unknown> | null;
  verification: Verification | null;
  started_at: Date | null;
  finished_at: Date | null;
  attempt: number;
  runs: string;
  error_message: string | null;
}

function numberOr(value: unknown, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) ? n : fallback;
}

function toRow(r: ReportRowSource): BatchReportRow {
  const v = r.verification;
  const reasons = v
    ? Object.entries(v.reasons)
        .map(([reason, count]) => `${count} ${reason}`)
        .join("; ")
    : "";
  return {
    jobId: r.id,
    source: r.source_email,
    sourceServer: r.source_server,
    destination: r.dest_email,
    destServer: r.dest_server,
    status: r.status,
    dryRun: r.dry_run,
    sourceMessages: v?.sourceMessages ?? null,
    sourceBytes: v?.sourceBytes ?? null,
    destMessages: v?.destMessages ?? null,
    destBytes: v?.destBytes ?? null,
    missing: v?.missing ?? null,
    copied: numberOr(r.stats?.messagesTransferred, 0),
    skipped: numberOr(r.stats?.messagesSkipped, 0),
    skippedReasons: reasons,
    errors: numberOr(r.stats?.errors, 0),
    durationSeconds:
      r.started_at && r.finished_at
        ? Math.round((r.finished_at.getTime() - r.started_at.getTime()) / 100) / 10
        : null,
    attempts: r.attempt + Number(r.runs) - 1,
    lastRunAt: r.finished_at ?? r.started_at,
    sentence: r.error_message,
  };
}

async function batchTag(db: Kysely<Database>, id: number): Promise<string> {
  const batch = await db.selectFrom("batches").select("tag").where("id", "=", id).executeTakeFirst();
  if (!batch) throw new ImapferryError("NOT_FOUND", `There is no batch ${id}, so there is no report for it.`);
  return batch.tag;
}

/**
 * Rows of the batch report in job id order, `limit` at a time after `afterId`. One row per mailbox
 * pair: its latest run (a rerun supersedes what it reran), with how many runs the pair had.
 */
async function reportPage(
  db: Kysely<Database>,
  batchId: number,
  afterId: number,
  limit: number,
): Promise<BatchReportRow[]> {
  // The pair's latest run is the one no later run superseded (see refreshSuperseded); every earlier
  // run points at it, which gives the number of runs.
  const rows = await sql<ReportRowSource>`
    select j.id, j.source_email, s1.name as source_server, j.dest_email, s2.name as dest_server, j.status,
      j.dry_run, j.stats, j.verification, j.started_at, j.finished_at, j.attempt, j.error_message,
      1 + (select count(*) from jobs p where p.superseded_by = j.id and p.deleted_at is null) as runs
    from jobs j
    join servers s1 on s1.id = j.source_server_id
    join servers s2 on s2.id = j.dest_server_id
    where j.batch_id = ${batchId} and j.deleted_at is null and j.superseded_by is null and j.id > ${afterId}
    order by j.id
    limit ${limit}`.execute(db);
  return rows.rows.map(toRow);
}

/** Rows fetched per query when streaming: what a CSV download holds in memory at once. */
const PAGE_ROWS = 1000;

/** Every row of the batch report, page by page, for a download of any size. */
export async function* streamBatchReport(
  ctx: Pick<ServiceContext, "db">,
  batchId: number,
): AsyncGenerator<BatchReportRow> {
  let afterId = 0;
  for (;;) {
    const page = await reportPage(ctx.db, batchId, afterId, PAGE_ROWS);
    yield* page;
    const last = page.at(-1);
    if (!last || page.length < PAGE_ROWS) return;
    afterId = last.jobId;
  }
}

/** The whole batch report; NOT_FOUND with a sentence for an id that names no batch. */
export async function getBatchReport(ctx: Pick<ServiceContext, "db">, input: unknown): Promise<BatchReport> {
  const { id } = parseInput(reportInputSchema, input, "batch report");
  const tag = await batchTag(ctx.db, id);
  const rows: BatchReportRow[] = [];
  for await (const row of streamBatchReport(ctx, id)) rows.push(row);
  const byStatus: Partial<Record<JobStatus, number>> = {};
  for (const row of rows) byStatus[row.status] = (byStatus[row.status] ?? 0) + 1;
  return {
    batchId: id,
    tag,
    rows,
    totals: {
      mailboxes: rows.length,
      byStatus,
      missing: rows.reduce((sum, row) => sum + (row.missing ?? 0), 0),
      copied: rows.reduce((sum, row) => sum + row.copied, 0),
    },
  };
}

/** Checks the batch exists before a download starts; NOT_FOUND with a sentence otherwise. */
export async function requireBatchForReport(ctx: Pick<ServiceContext, "db">, id: number): Promise<string> {
  return batchTag(ctx.db, id);
}
