/** A row the import left out: its position among the data rows (from 0) and why. */
export interface RejectedRowRef {
  index: number;
  errors: { column: string | null; reason: string }[];
}

/**
 * The text of each record of a CSV file, as written (quotes, spacing and line ends kept), with empty
 * lines skipped and a BOM dropped, as the server reads it: record i here is the server's record i.
 */
export function csvRecordTexts(text: string): string[] {
  const source = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const records: string[] = [];
  let start = 0;
  let quoted = false;
  let i = 0;
  const push = (end: number) => {
    const record = source.slice(start, end);
    if (record !== "") records.push(record);
  };
  while (i < source.length) {
    const c = source[i];
    if (quoted) {
      if (c === '"' && source[i + 1] === '"') i += 2;
      else {
        if (c === '"') quoted = false;
        i++;
      }
      continue;
    }
    if (c === '"') {
      quoted = true;
      i++;
    } else if (c === "\r" || c === "\n") {
      push(i);
      i += c === "\r" && source[i + 1] === "\n" ? 2 : 1;
      start = i;
    } else i++;
  }
  push(source.length);
  return records;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * The rows an import left out, as a CSV to fix and import again: the file's own header and rows as
 * they were written, each with an `error` column saying what to fix ("sourceEmail: … is not valid").
 * The server ignores the `error` column when the file comes back.
 */
export function rejectedRowsCsv(original: string, rejected: readonly RejectedRowRef[]): string {
  const [header = "", ...rows] = csvRecordTexts(original);
  const lines = [`${header},error`];
  for (const r of rejected) {
    const row = rows[r.index];
    if (row === undefined) continue;
    const reason = r.errors.map((e) => (e.column ? `${e.column}: ${e.reason}` : e.reason)).join("; ");
    lines.push(`${row},${csvField(reason)}`);
  }
  return `${lines.join("\r\n")}\r\n`;
}
