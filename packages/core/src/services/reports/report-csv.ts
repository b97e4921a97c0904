import type { BatchReportRow } from "./batch-report.ts";

export const BATCH_REPORT_COLUMNS: [header: string, value: (row: BatchReportRow) => unknown][] = [
  ["job_id", (r) => r.jobId],
  ["source", (r) => r.source],
  ["source_server", (r) => r.sourceServer],
  ["destination", (r) => r.destination],
  ["destination_server", (r) => r.destServer],
  ["status", (r) => r.status],
  ["dry_run", (r) => r.dryRun],
  ["source_messages", (r) => r.sourceMessages],
  ["source_bytes", (r) => r.sourceBytes],
  ["destination_messages", (r) => r.destMessages],
  ["destination_bytes", (r) => r.destBytes],
  ["missing", (r) => r.missing],
  ["copied", (r) => r.copied],
  ["skipped", (r) => r.skipped],
  ["skipped_reasons", (r) => r.skippedReasons],
  ["errors", (r) => r.errors],
  ["duration_seconds", (r) => r.durationSeconds],
  ["attempts", (r) => r.attempts],
  ["last_run_at", (r) => r.lastRunAt?.toISOString() ?? ""],
  ["error", (r) => r.sentence],
];

/**
 * RFC 4180 field; a value a spreadsheet would run as a formula (=, +, -, @ first) gets a leading
 * apostrophe, since mailbox names and server sentences come from outside.
 */
function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function batchReportCsvHeader(): string {
  return `${BATCH_REPORT_COLUMNS.map(([header]) => header).join(",")}\r\n`;
}

export function batchReportCsvLine(row: BatchReportRow): string {
  return `${BATCH_REPORT_COLUMNS.map(([, value]) => csvField(value(row))).join(",")}\r\n`;
}
