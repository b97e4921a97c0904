import type { Database } from "@imapferry/db";
import type { Kysely } from "kysely";
import { LogSpill } from "./log-spill.ts";
import { appendLogChunk, isChunkStoredSince } from "./logs.ts";

/** How long output waits in the writer before it is stored (and NOTIFYed) as one chunk. */
export const LOG_FLUSH_INTERVAL_MS = 100;

/**
 * How long close() keeps retrying (250 ms doubling to 5 s) while the database is unreachable. Long:
 * the run's last lines say how it ended, and the worker waits for the database to record the outcome
 * anyway. What waits is bounded by the engine's output, which stopped when the engine exited.
 */
const CLOSE_PATIENCE_MS = 15 * 60_000;

export interface LogWriterOptions {
  db: Kysely<Database>;
  jobId: number;
  /** Only the run holding the job's lease may write (see appendLogChunk). */
  fence?: { workerId: string; attempt: number };
  /** @defaultValue 100 */
  flushIntervalMs?: number;
  /** A chunk row holds at most about this many bytes; a full buffer flushes at once. @defaultValue 65536 */
  maxChunkBytes?: number;
  /** How long close() waits for an unreachable database before dropping what it holds. @defaultValue 15 minutes */
  closePatienceMs?: number;
  /**
   * Text waiting for an unreachable database beyond this many bytes moves to a private temporary file
   * (see LogSpill), so a long outage costs disk, not the worker's memory. @defaultValue 4 MiB
   */
  spillAfterBytes?: number;
  /** Where spill files go. @defaultValue the OS temporary directory */
  spillDir?: string;
  /** The fence refused a write: another run owns the job now. */
  onLost?: () => void;
  onError?: (error: unknown) => void;
}

export interface LogWriter {
  /** Queues text (the caller includes line breaks); it reaches the database within the flush interval. */
  write(text: string): void;
  /** Writes everything queued so far. */
  flush(): Promise<void>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
  readonly bytesWritten: number;
}

/**
 * Batches engine output into append-only chunk rows: at most one INSERT (and one NOTIFY) per ~100 ms,
 * or per 64 KiB, rather than one per line; output after a quiet spell is written at once. 100 ms rather
 * than the design's 250 ms: the batching delay is most of what a live-log viewer waits for (the target
 * is p99 < 250 ms from the engine's line to the screen), and ten small inserts a second per running job
 * cost PostgreSQL little. A crash loses at most what is still in this buffer; a chunk that was written
 * is committed and stays.
 */
export function createLogWriter(options: LogWriterOptions): LogWriter {
  const interval = options.flushIntervalMs ?? LOG_FLUSH_INTERVAL_MS;
  const maxChunk = options.maxChunkBytes ?? 64 * 1024;
  const spillAfter = options.spillAfterBytes ?? 4 * 1024 * 1024;
  let pending: string[] = [];
  let pendingBytes = 0;
  /** Older text than `pending`, moved to disk during an outage; written before `pending`. */
  let spill: LogSpill | null = null;
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();
  let lost = false;
  let closed = false;
  let written = 0;

  /** When the last flush started: flushes start at most once per interval (full chunks aside). */
  let lastFlushAt = Number.NEGATIVE_INFINITY;

  /** Flushes that failed in a row (the database is unreachable): retries back off, up to 5 s apart. */
  let failures = 0;

  function schedule(): void {
    if (timer || closed) return;
    // Output after a quiet spell goes out at once (within the tick, so a burst of lines still makes one
    // chunk); only output that follows a flush closely waits for the rest of the interval. Sparse
    // lines (a copied message every so often) then reach a viewer without waiting for a batch, and a
    // busy engine still costs one INSERT per interval.
    const backoff = failures > 0 ? Math.min(interval * 2 ** failures, 5000) : interval;
    const wait = Math.max(0, lastFlushAt + backoff - performance.now());
    timer = setTimeout(function flushOnInterval() {
      timer = null;
      void flush();
    }, wait);
  }

  /** Where our last acknowledged chunk ended: a chunk in doubt can only have landed after it. */
  let confirmedEnd = 0;
  /** A chunk whose append failed without an answer: it may have committed all the same. */
  let inDoubt: string | null = null;
  /** How many bytes at the spill file's front the chunk in doubt is (0: it came from memory). */
  let inDoubtFromSpill = 0;

  async function append(text: string): Promise<void> {
    const chunk = await appendLogChunk(options.db, options.jobId, text, options.fence);
    if (chunk) {
      written += chunk.bytes;
      confirmedEnd = chunk.offset + chunk.bytes;
    } else if (options.fence) {
      lost = true;
      options.onLost?.();
    }
  }

  async function writeOut(): Promise<void> {
    try {
      if (inDoubt !== null && !lost) {
        // The connection can drop after COMMIT: appending the chunk again would repeat it in the log.
        if (!(await isChunkStoredSince(options.db, options.jobId, confirmedEnd, inDoubt)))
          await append(inDoubt);
        inDoubt = null;
        // Text in doubt that came from the spill file is still at its front until now.
        spill?.consume(inDoubtFromSpill);
        inDoubtFromSpill = 0;
      }
      while (spill && spill.bytes > 0 && !lost) {
        const { text, bytes } = spill.peek(maxChunk);
        inDoubt = text;
        inDoubtFromSpill = bytes;
        await append(text);
        inDoubt = null;
        inDoubtFromSpill = 0;
        spill.consume(bytes);
      }
      if (spill && spill.bytes === 0) {
        spill.dispose();
        spill = null;
      }
      // Only what was queued when this flush began: lines that arrive while its INSERT is in flight
      // wait for the next interval. Draining them too would send one INSERT per round trip under
      // steady output (an imapsync job made 25 a second instead of 10).
      let queued = pending.length;
      while (!lost) {
        // A spill to disk meanwhile (see write) may have emptied `pending`: that text is written next time.
        queued = Math.min(queued, pending.length);
        if (queued === 0) break;
        // Take whole pieces up to the chunk size (at least one piece, however big).
        let take = 0;
        let bytes = 0;
        while (take < queued) {
          const b = Buffer.byteLength(pending[take]!, "utf8");
          if (take > 0 && bytes + b > maxChunk) break;
          bytes += b;
          take++;
        }
        const text = pending.slice(0, take).join("");
        pending = pending.slice(take);
        pendingBytes -= bytes;
        queued -= take;
        inDoubt = text;
        await append(text);
        inDoubt = null;
      }
      failures = 0;
    } catch (e: unknown) {
      // The database is unreachable: keep the text and retry later rather than drop it. Reported at
      // the 1st, 2nd, 4th, 8th… failure in a row, so a long outage does not flood the worker's log.
      failures++;
      if ((failures & (failures - 1)) === 0) options.onError?.(e);
      schedule();
    }
  }

  const unwritten = () => !lost && (inDoubt !== null || pending.length > 0 || (spill?.bytes ?? 0) > 0);

  /** Moves what waits in memory to the spill file, after what is already there. */
  function spillPending(): void {
    spill ??= new LogSpill(options.spillDir);
    spill.append(pending.join(""));
    pending = [];
    pendingBytes = 0;
  }

  function flush(): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    lastFlushAt = performance.now();
    chain = chain.then(writeOut);
    return chain;
  }

  return {
    write(text: string): void {
      if (lost || text.length === 0) return;
      pending.push(text);
      pendingBytes += Buffer.byteLength(text, "utf8");
      // While the database is unreachable a full buffer waits for the backed-off retry, and a large
      // one goes to disk.
      if (failures > 0 && pendingBytes >= spillAfter) spillPending();
      if (pendingBytes >= maxChunk && failures === 0) void flush();
      else schedule();
    },
    flush,
    async close(): Promise<void> {
      await flush();
      // The last lines say how the run ended: keep trying a while rather than drop them.
      const giveUpAt = performance.now() + (options.closePatienceMs ?? CLOSE_PATIENCE_MS);
      for (let attempt = 0; unwritten() && performance.now() < giveUpAt; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 5000)));
        await flush();
      }
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      spill?.dispose();
      spill = null;
    },
    get bytesWritten() {
      return written;
    },
  };
}
