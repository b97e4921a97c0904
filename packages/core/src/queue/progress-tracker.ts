import type { Database, JobProgress } from "@imapferry/db";
import { type Kysely, sql } from "kysely";
import type { ParsedEvent } from "../engines/imapsync/parser.ts";
import { CHANNELS } from "../events/channels.ts";

export function emptyProgress(total: number | null = null): JobProgress {
  return {
    copied: 0,
    skipped: 0,
    errors: 0,
    total,
    bytesCopied: 0,
    bytesTotal: null,
    msgsPerSecond: null,
    etaSeconds: null,
    messagesLeft: null,
    folder: null,
    folderIndex: null,
    folderCount: null,
  };
}

/** Folds one parser event into the progress; returns whether anything an operator sees changed. */
export function applyEvent(progress: JobProgress, event: ParsedEvent): boolean {
  switch (event.type) {
    case "folder":
      // Folders copied at once announce themselves in turn: the job shows the furthest one started,
      // so "3/6" never goes back to "2/6" when a slower lane's line comes later.
      if (progress.folderIndex === null || event.index >= progress.folderIndex) {
        progress.folder = event.sourceDisplay;
        progress.folderIndex = event.index;
      }
      progress.folderCount = event.count;
      return true;
    case "message":
      if (event.action === "skipped") progress.skipped++;
      else progress.copied++; // a dry run counts what it would copy, so its bar fills too
      if (event.action === "copied") {
        progress.bytesCopied = Math.max(progress.bytesCopied + event.size, event.bytesCopiedTotal);
        progress.msgsPerSecond = event.messagesPerSecond;
      }
      return true;
    case "eta":
      progress.etaSeconds = event.etaSeconds;
      progress.messagesLeft = event.messagesLeft;
      if (event.messagesTotal > 0 && (progress.total === null || progress.total < event.messagesTotal))
        progress.total = event.messagesTotal;
      return true;
    case "failure":
      progress.errors++;
      return true;
    // The closing "Err n/m" list repeats the failures already counted: it gives the total, not more.
    case "error":
      progress.errors = Math.max(progress.errors, event.count);
      return true;
    case "statistics": {
      const s = event.stats;
      if (s.messagesTransferred !== undefined)
        progress.copied = Math.max(progress.copied, s.messagesTransferred);
      if (s.bytesTransferred !== undefined) progress.bytesCopied = s.bytesTransferred;
      if (s.messagesSkipped !== undefined) progress.skipped = Math.max(progress.skipped, s.messagesSkipped);
      if (s.errors !== undefined) progress.errors = s.errors;
      if (s.messagesPerSecond !== undefined) progress.msgsPerSecond = s.messagesPerSecond;
      progress.etaSeconds = 0;
      progress.messagesLeft = 0;
      return true;
    }
    default:
      return false;
  }
}

export interface ProgressTracker {
  readonly progress: JobProgress;
  onEvent(event: ParsedEvent): void;
  setTotals(totals: { messages: number | null; bytes: number | null }): void;
  /** Writes the latest progress now (at the end of a run). */
  flush(): Promise<void>;
  close(): void;
}

/**
 * Keeps a job's progress in memory and writes it at most every `intervalMs` (twice a second by
 * default) with a NOTIFY, fenced to the run that owns the job. A fast engine emits hundreds of events
 * a second; the row and the listeners get the latest state, not every step.
 */
export function createProgressTracker(options: {
  db: Kysely<Database>;
  jobId: number;
  batchId: number | null;
  fence: { workerId: string; attempt: number };
  initial?: JobProgress;
  /** @defaultValue 500 */
  intervalMs?: number;
  onError?: (e: unknown) => void;
}): ProgressTracker {
  const progress = options.initial ?? emptyProgress();
  const interval = options.intervalMs ?? 500;
  let dirty = false;
  let lastWrite = 0;
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> = Promise.resolve();
  let closed = false;

  async function write(): Promise<void> {
    if (!dirty) return;
    dirty = false;
    lastWrite = Date.now();
    const snapshot = JSON.stringify(progress);
    try {
      await sql`
        with updated as (
          update jobs set progress = ${snapshot}::jsonb
          where id = ${options.jobId} and worker_id = ${options.fence.workerId} and attempt = ${options.fence.attempt} and status = 'running'
          returning id, batch_id, status, progress, resume_at
        )
        select pg_notify(${CHANNELS.job}, json_build_object('jobId', id, 'batchId', batch_id,
          'status', case when resume_at is not null then 'waiting' else status end, 'resumeAt', resume_at,
          'progress', progress)::text)
        from updated`.execute(options.db);
      failures = 0;
    } catch (e: unknown) {
      dirty = true;
      // Reported at the 1st, 2nd, 4th, 8th… failure in a row: an outage does not flood the log.
      failures++;
      if ((failures & (failures - 1)) === 0) options.onError?.(e);
    }
  }
  let failures = 0;

  function schedule(): void {
    if (timer || closed) return;
    const wait = Math.max(0, lastWrite + interval - Date.now());
    timer = setTimeout(function writeProgress() {
      timer = null;
      writing = writing.then(write);
    }, wait);
  }

  return {
    progress,
    onEvent(event) {
      if (applyEvent(progress, event)) {
        dirty = true;
        schedule();
      }
    },
    setTotals(totals) {
      if (totals.messages !== null) progress.total = totals.messages;
      if (totals.bytes !== null) progress.bytesTotal = totals.bytes;
      dirty = true;
      schedule();
    },
    async flush() {
      if (timer) clearTimeout(timer);
      timer = null;
      dirty = true;
      writing = writing.then(write);
      await writing;
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
