import { CSV_COLUMNS, CSV_OAUTH2_COLUMNS, CSV_OPTION_COLUMNS } from "@imapferry/core/csv-columns";
import { download } from "./download.ts";
import { backoffMs, isRetryable, pause } from "./retry.ts";
import type {
  Batch,
  ClientCore,
  EngineOptionsInput,
  ImportOptions,
  ImportPreview,
  ImportResult,
} from "./types.ts";

/** One mailbox to migrate: a row of the batch CSV. */
export interface MailboxRow {
  sourceServerId: number;
  /** The source mailbox's login: an address, a user name, `DOMAIN\\user` … */
  sourceEmail: string;
  /** Empty or absent where the source server has admin credentials (they log in for the mailbox). */
  sourcePassword?: string;
  destServerId: number;
  /** The destination mailbox's login. */
  destEmail: string;
  /** Empty or absent where the destination server has admin credentials. */
  destPassword?: string;
  /** A label for the job. @defaultValue "<source login> → <destination login>" */
  name?: string;
  /** Overrides the batch's dry-run setting for this row. */
  dryRun?: boolean;
  /** This mailbox's engine options, over the batch's `options` and the settings' defaults. */
  options?: EngineOptionsInput;
  /** Instead of sourcePassword: the source mailbox's OAuth2 refresh token (with provider and client id). */
  sourceRefreshToken?: string;
  /** "google" or "microsoft". */
  sourceOAuth2Provider?: string;
  sourceOAuth2ClientId?: string;
  sourceOAuth2ClientSecret?: string;
  /** @defaultValue the provider's public token endpoint */
  sourceOAuth2TokenUrl?: string;
  /** Instead of destPassword: the destination mailbox's OAuth2 refresh token. */
  destRefreshToken?: string;
  destOAuth2Provider?: string;
  destOAuth2ClientId?: string;
  destOAuth2ClientSecret?: string;
  destOAuth2TokenUrl?: string;
}

/** A row `importBatch` left out with `skipInvalid`: the row you gave, where it was, and why. */
export interface RejectedMailboxRow {
  /** Position in the rows given, from 0. */
  index: number;
  /** Its line in the CSV sent (the header is line 1). */
  line: number;
  row: MailboxRow;
  errors: ImportResult["rejected"][number]["errors"];
}

/** `importBatch(rows, …)`'s result: the rejected rows come back as the rows you gave. */
export type RowsImportResult = Omit<ImportResult, "rejected"> & { rejected: RejectedMailboxRow[] };

export interface WaitForBatchOptions {
  /** Called with the batch (counts per status) every time it changes. */
  onProgress?: (batch: Batch) => void;
  signal?: AbortSignal;
}

export interface BatchHelpers {
  /**
   * Imports mailboxes as one batch of migrations, all or nothing; with `skipInvalid: true` the valid
   * rows are imported and the others come back in `rejected` with their reasons (given rows, each
   * rejected entry carries its row, to fix and import again). Give a CSV file's text or rows;
   * with `preview: true` only checks them (every problem by line and column) and imports nothing.
   */
  importBatch(
    rows: readonly MailboxRow[],
    options?: ImportOptions & { preview?: false },
  ): Promise<RowsImportResult>;
  importBatch(csv: string, options?: ImportOptions & { preview?: false }): Promise<ImportResult>;
  importBatch(
    csvOrRows: string | readonly MailboxRow[],
    options: ImportOptions & { preview: true },
  ): Promise<ImportPreview>;
  /**
   * Resolves when no job of the batch is queued or running any more, with the batch's final counts.
   * Follows the batch live (jobs.events) and re-reads it after each change.
   */
  waitForBatch(tagOrId: string | number, options?: WaitForBatchOptions): Promise<Batch>;
  /**
   * GET /api/batches/:id/report.csv: one row per mailbox (its latest run) with status, messages and
   * bytes on each side, what is missing and why. Streamed: read `.text()` or pipe `.body`.
   */
  downloadBatchReport(batchId: number): Promise<Response>;
}

function csvField(value: string | number | boolean | undefined): string {
  if (value === undefined) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

/** An option as a CSV cell: lists `;`-separated, folder mappings as `from=to` pairs. */
function optionCell(value: unknown): string | number | boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) {
    return value
      .map((item) => (typeof item === "object" && item !== null ? `${item.from}=${item.to}` : String(item)))
      .join(";");
  }
  return value as string | number | boolean;
}

/** The batch CSV for rows, in the server's template format, with a column per option any row sets. */
export function rowsToCsv(rows: readonly MailboxRow[]): string {
  const optionColumns = CSV_OPTION_COLUMNS.filter((column) =>
    rows.some((r) => r.options?.[column] !== undefined),
  );
  // OAuth2 columns only where a row uses them, like the option columns.
  const columns = [...CSV_COLUMNS, ...CSV_OAUTH2_COLUMNS.filter((c) => rows.some((r) => r[c] !== undefined))];
  const lines = [[...columns, ...optionColumns].join(",")];
  for (const row of rows) {
    const cells = [
      ...columns.map((column) => csvField(row[column])),
      ...optionColumns.map((column) => csvField(optionCell(row.options?.[column]))),
    ];
    lines.push(cells.join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}

export function isFinished(batch: Batch): boolean {
  // A waiting job (it resumes by itself after a dropped connection or throttling) is not finished, nor
  // is one awaiting its owner's password (it runs once the owner has used the link).
  return (
    batch.counts.queued === 0 &&
    batch.counts.running === 0 &&
    (batch.counts.waiting ?? 0) === 0 &&
    (batch.counts.awaiting_credentials ?? 0) === 0
  );
}

export function createBatchHelpers(core: ClientCore): BatchHelpers {
  async function importBatch(
    csvOrRows: string | readonly MailboxRow[],
    options: ImportOptions & { preview?: boolean } = {},
  ): Promise<ImportResult | RowsImportResult | ImportPreview> {
    const { preview, ...rest } = options;
    const csv = typeof csvOrRows === "string" ? csvOrRows : rowsToCsv(csvOrRows);
    if (preview) return core.api.batches.preview.mutate({ ...rest, csv });
    const result = await core.api.batches.import.mutate({ ...rest, csv });
    if (typeof csvOrRows === "string") return result;
    const rows = csvOrRows;
    // Passwords never come back from the server: the rejected rows are the caller's own, by index.
    return {
      ...result,
      rejected: result.rejected.map((r) => ({ ...r, row: rows[r.index] as MailboxRow })),
    } satisfies RowsImportResult;
  }

  async function waitForBatch(tagOrId: string | number, options: WaitForBatchOptions = {}): Promise<Batch> {
    const { signal, onProgress } = options;
    const key = typeof tagOrId === "number" ? { id: tagOrId } : { tag: tagOrId };
    let batch = await core.api.batches.get.query(key);
    onProgress?.(batch);
    if (isFinished(batch)) return batch;
    const stop = new AbortController();
    const stopAll = () => stop.abort();
    signal?.addEventListener("abort", stopAll, { once: true });
    let failures = 0;
    try {
      while (!stop.signal.aborted) {
        try {
          const events = core.api.jobs.events.subscribe({ batchId: batch.id }, { signal: stop.signal });
          // The first event ("resync") arrives once the subscription is live; re-reading the batch on
          // every event from then on cannot miss a job that ended in between.
          for await (const event of events) {
            if (event.type === "heartbeat") continue;
            const previous = JSON.stringify(batch.counts);
            batch = await core.api.batches.get.query({ id: batch.id });
            failures = 0;
            if (JSON.stringify(batch.counts) !== previous) onProgress?.(batch);
            if (isFinished(batch)) return batch;
          }
        } catch (e: unknown) {
          if (stop.signal.aborted) break;
          if (!isRetryable(e)) throw e;
          await pause(backoffMs(failures++), stop.signal);
        }
      }
      throw new Error("waitForBatch was aborted.");
    } finally {
      signal?.removeEventListener("abort", stopAll);
      stop.abort();
    }
  }

  function downloadBatchReport(batchId: number): Promise<Response> {
    return download(core, `/api/batches/${batchId}/report.csv`, `the report of batch ${batchId}`);
  }

  return { importBatch: importBatch as BatchHelpers["importBatch"], waitForBatch, downloadBatchReport };
}
