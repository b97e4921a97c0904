import type { Batch, Job } from "@imapferry/sdk";

/** Where a command writes: results to stdout (for pipes), progress and messages to stderr. */
export interface Output {
  json: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export function writeJson(out: Output, value: unknown): void {
  out.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function writeLines(stream: NodeJS.WritableStream, lines: readonly string[]): void {
  if (lines.length > 0) stream.write(`${lines.join("\n")}\n`);
}

/** Columns padded to their widest cell; the last column is not padded (it may be long). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** "1,234 / 2,000" or "1,234" while the total is unknown. */
export function formatCount(done: number, total: number | null | undefined): string {
  const n = (value: number) => value.toLocaleString("en-US");
  return total === null || total === undefined ? n(done) : `${n(done)} / ${n(total)}`;
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A timestamp as the API sends it (ISO text), in the reader's local time without seconds' noise. */
export function formatTime(value: string | Date | null | undefined): string {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString("sv-SE").slice(0, 16);
}

/** A job's progress in a list: "copied 120 / 480 messages" for a running one, the outcome once ended. */
export function jobProgressText(job: Pick<Job, "status" | "progress" | "dryRun">): string {
  const p = job.progress;
  if (!p) return job.dryRun ? "dry run" : "";
  const verb = job.dryRun ? "checked" : "copied";
  return `${verb} ${formatCount(p.copied + p.skipped, p.total)} messages`;
}

/** "done 12, running 3, failed 1" for the statuses that have jobs. */
export function batchCountsText(batch: Pick<Batch, "counts">): string {
  const parts = Object.entries(batch.counts)
    .filter(([, n]) => Number(n) > 0)
    .map(([status, n]) => `${status} ${n}`);
  return parts.length > 0 ? parts.join(", ") : "no jobs";
}
