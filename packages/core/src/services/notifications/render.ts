import type { JobProgress } from "@imapferry/db";

/** The figures an operator wants after a migration; null where the engine did not report one. */
export interface JobStatsSummary {
  transferred: number | null;
  skipped: number | null;
  errors: number | null;
  bytes: number | null;
  durationSeconds: number | null;
}

export interface RenderedEmail {
  subject: string;
  text: string;
}

export interface JobEmailInput {
  jobId: number;
  name: string;
  status: "done" | "incomplete" | "failed";
  sourceEmail: string;
  destEmail: string;
  dryRun: boolean;
  batchTag: string | null;
  stats: JobStatsSummary;
  /** The job system's one-sentence reason, for a failed job. */
  errorMessage: string | null;
  url: string;
}

export interface BatchEmailInput {
  batchId: number;
  tag: string;
  /** Jobs of the batch per status (only non-zero ones are shown). */
  counts: Record<string, number>;
  /** The first failed jobs (at most MAX_LISTED_FAILURES); `counts.failed` says how many there are. */
  failed: { jobId: number; sourceEmail: string; destEmail: string; errorMessage: string | null }[];
  url: string;
  /** A plan's cutover summary rather than a batch's end: complete mailboxes and those needing attention. */
  cutover?: { complete: number; attention: number };
}

/** At most this many failed mailboxes are listed in a batch summary; the rest are counted. */
export const MAX_LISTED_FAILURES = 100;

// Names the statistics may carry, most specific first: the imapsync block ("Messages transferred",
// "Total bytes transferred", "Transfer time") and shorter forms; the live progress object is the fallback.
const STAT_KEYS = {
  transferred: ["messagesTransferred", "transferred", "copied"],
  skipped: ["messagesSkipped", "skipped"],
  errors: ["errors", "errorCount", "detectedErrors"],
  bytes: ["bytesTransferred", "totalBytesTransferred", "bytes", "bytesCopied"],
  durationSeconds: ["transferTimeSeconds", "durationSeconds", "elapsedSeconds"],
} as const;

function numberFrom(value: unknown): number | null {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))
    return Number(value);
  return null;
}

function firstNumber(source: Record<string, unknown> | null, keys: readonly string[]): number | null {
  if (!source) return null;
  for (const key of keys) {
    const found = numberFrom(source[key]);
    if (found !== null) return found;
  }
  return null;
}

/** Pulls the summary figures from a job's final statistics, falling back to its last progress. */
export function summarizeJobStats(job: {
  stats: Record<string, unknown> | null;
  progress: JobProgress | null;
  started_at: Date | null;
  finished_at: Date | null;
}): JobStatsSummary {
  const progress = job.progress as unknown as Record<string, unknown> | null;
  const elapsed =
    job.started_at && job.finished_at
      ? Math.max(0, (job.finished_at.getTime() - job.started_at.getTime()) / 1000)
      : null;
  return {
    transferred: firstNumber(job.stats, STAT_KEYS.transferred) ?? firstNumber(progress, ["copied"]),
    skipped: firstNumber(job.stats, STAT_KEYS.skipped) ?? firstNumber(progress, ["skipped"]),
    errors: firstNumber(job.stats, STAT_KEYS.errors) ?? firstNumber(progress, ["errors"]),
    bytes: firstNumber(job.stats, STAT_KEYS.bytes) ?? firstNumber(progress, ["bytesCopied"]),
    durationSeconds: firstNumber(job.stats, STAT_KEYS.durationSeconds) ?? elapsed,
  };
}

/** 31891 → "31.1 KiB". */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/** 252 → "4 min 12 s"; 0.5 → "0.5 s". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds * 10) / 10} s`;
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h} h ${m} min` : `${m} min ${s} s`;
}

function count(value: number | null, noun: string): string {
  if (value === null) return "not reported";
  return `${value} ${noun}${value === 1 ? "" : "s"}`;
}

function mailbox(source: string, dest: string): string {
  return source === dest ? source : `${source} → ${dest}`;
}

export function renderJobEmail(input: JobEmailInput): RenderedEmail {
  const statusWord =
    input.status === "done" ? "Done" : input.status === "incomplete" ? "Incomplete" : "Failed";
  const dry = input.dryRun ? " (dry run)" : "";
  const subject = `[imapferry] ${statusWord}${dry}: ${mailbox(input.sourceEmail, input.destEmail)}`;
  const outcome =
    input.status === "done"
      ? `The migration of ${input.sourceEmail} to ${input.destEmail} finished${dry}.`
      : input.status === "incomplete"
        ? `The migration of ${input.sourceEmail} to ${input.destEmail} finished, but not every message is on the destination.`
        : `The migration of ${input.sourceEmail} to ${input.destEmail} failed${dry}.`;
  const s = input.stats;
  const lines = [
    outcome,
    "",
    ...(input.status === "failed"
      ? [`Error: ${input.errorMessage ?? "the engine stopped without saying why."}`, ""]
      : input.status === "incomplete"
        ? [`Missing: ${input.errorMessage ?? "the check after the run found mail missing."}`, ""]
        : []),
    `Job:          #${input.jobId}${input.name ? ` ${input.name}` : ""}`,
    ...(input.batchTag !== null ? [`Batch:        ${input.batchTag}`] : []),
    `Transferred:  ${count(s.transferred, "message")}${s.bytes !== null ? ` (${formatBytes(s.bytes)})` : ""}`,
    `Skipped:      ${count(s.skipped, "message")}`,
    `Errors:       ${s.errors === null ? "not reported" : String(s.errors)}`,
    `Duration:     ${s.durationSeconds === null ? "not reported" : formatDuration(s.durationSeconds)}`,
    "",
    `Open the job: ${input.url}`,
    "",
    "You get this email because nobody was watching the job when it ended.",
  ];
  return { subject, text: `${lines.join("\n")}\n` };
}

/** "3 mailboxes complete, 1 needs attention". */
export function cutoverText(outcome: { complete: number; attention: number }): string {
  const complete = `${outcome.complete} mailbox${outcome.complete === 1 ? "" : "es"} complete`;
  return `${complete}, ${outcome.attention} need${outcome.attention === 1 ? "s" : ""} attention`;
}

export function renderBatchEmail(input: BatchEmailInput): RenderedEmail {
  const statusOrder = ["done", "incomplete", "failed", "cancelled", "interrupted", "running", "queued"];
  const shown = Object.entries(input.counts)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => statusOrder.indexOf(a) - statusOrder.indexOf(b));
  const countsText = shown.map(([status, n]) => `${n} ${status}`).join(", ") || "no jobs";
  // A cutover lists every mailbox that needs attention (incomplete, cancelled …), not only failures.
  const failedCount = input.cutover ? input.cutover.attention : (input.counts.failed ?? 0);
  const subject = input.cutover
    ? `[imapferry] Batch ${input.tag} cut over: ${cutoverText(input.cutover)}`
    : `[imapferry] Batch ${input.tag} finished: ${countsText}`;
  const listed = input.failed.slice(0, MAX_LISTED_FAILURES);
  const unlisted = Math.max(0, failedCount - listed.length);
  const lines = [
    input.cutover
      ? `The batch ${input.tag} has cut over: ${cutoverText(input.cutover)} (${countsText}).`
      : `Every job of the batch ${input.tag} has ended: ${countsText}.`,
    "",
    ...(failedCount > 0
      ? [
          input.cutover ? "Mailboxes that need attention:" : "Failed mailboxes:",
          ...listed.map(
            (f) =>
              `- ${mailbox(f.sourceEmail, f.destEmail)} (job #${f.jobId}): ${f.errorMessage ?? "no reason given"}`,
          ),
          ...(unlisted > 0 ? [`- … and ${unlisted} more`] : []),
          "",
        ]
      : []),
    `Open the batch: ${input.url}`,
  ];
  return { subject, text: `${lines.join("\n")}\n` };
}
