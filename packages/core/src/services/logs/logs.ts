import type { Database } from "@imapferry/db";
import { type Kysely, sql } from "kysely";
import type { ServiceContext } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import { CHANNELS, MAX_INLINE_LOG_BYTES } from "../../events/channels.ts";

export interface LogChunk {
  /** Byte offset of the chunk's first byte in the job's log (UTF-8). */
  offset: number;
  text: string;
  /** Length in UTF-8 bytes. */
  bytes: number;
}

/** A piece of a job's log as the API sends it. */
export interface LogText {
  /** Byte offset (UTF-8) of the text's first byte in the job's log. */
  offset: number;
  text: string;
}

/**
 * The part of a chunk from byte `fromOffset` on (the whole chunk when it starts there or later). A cut
 * inside a multi-byte character moves forward to the next character, so the text stays valid UTF-8 and
 * `offset + byteLength(text)` is always the chunk's end.
 */
export function trimChunk(chunk: LogText, fromOffset: number): LogText | null {
  if (chunk.offset >= fromOffset) return chunk;
  const bytes = Buffer.from(chunk.text);
  let cut = fromOffset - chunk.offset;
  while (cut < bytes.length && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut++;
  if (cut >= bytes.length) return null;
  return { offset: chunk.offset + cut, text: bytes.subarray(cut).toString("utf8") };
}

export interface LogPage {
  chunks: LogChunk[];
  /** Offset to ask for next: the end of what was returned. */
  nextOffset: number;
  /** Everything written so far, in bytes; a reader is caught up when nextOffset reaches it. */
  logBytes: number;
  status: string;
}

/** @defaultValue 256 KiB per page: enough for a screenful of history, small enough for one response. */
export const DEFAULT_LOG_PAGE_BYTES = 256 * 1024;

/**
 * Appends one chunk at the end of a job's log: the offset is taken from jobs.log_bytes in the same
 * statement that advances it, so concurrent writers cannot interleave, and a NOTIFY carries the chunk
 * (its text inline when it fits). `fence` restricts the write to the run that owns the job: a worker
 * that lost its lease can no longer add to a log another worker now writes.
 * Append-only rows: never `log = log || chunk`, which rewrites the whole value on every append.
 */
/** PostgreSQL text cannot hold NUL; a chunk with one would fail on every retry and block the log. */
function storableLogText(text: string): string {
  return text.includes("\0") ? text.replaceAll("\0", "\uFFFD") : text;
}

/** Whether this exact chunk was stored at or after `fromOffset` (an append whose answer was lost). */
export async function isChunkStoredSince(
  db: Kysely<Database>,
  jobId: number,
  fromOffset: number,
  text: string,
): Promise<boolean> {
  const row = await db
    .selectFrom("job_logs")
    .select("byte_offset")
    .where("job_id", "=", jobId)
    .where("byte_offset", ">=", String(fromOffset))
    .where("chunk", "=", storableLogText(text))
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function appendLogChunk(
  db: Kysely<Database>,
  jobId: number,
  text: string,
  fence?: { workerId: string; attempt: number },
): Promise<LogChunk | null> {
  text = storableLogText(text);
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes === 0) return null;
  // Measured as JSON: control characters grow sixfold when escaped (ESC becomes \u001b), and a NOTIFY
  // payload over 8000 bytes fails the whole append.
  const inline =
    bytes <= MAX_INLINE_LOG_BYTES && Buffer.byteLength(JSON.stringify(text)) <= MAX_INLINE_LOG_BYTES;
  const fenceClause = fence
    ? sql`and worker_id = ${fence.workerId} and attempt = ${fence.attempt} and status = 'running'`
    : sql``;
  const result = await sql<{ byte_offset: string }>`
    with advanced as (
      update jobs set log_bytes = log_bytes + ${bytes}
      where id = ${jobId} ${fenceClause}
      returning log_bytes - ${bytes} as byte_offset
    ), inserted as (
      insert into job_logs (job_id, byte_offset, chunk)
      select ${jobId}, byte_offset, ${text} from advanced
      returning byte_offset
    )
    select byte_offset::text, pg_notify(${CHANNELS.log}, json_build_object(
      'jobId', ${jobId}::int, 'offset', byte_offset, 'bytes', ${bytes}::int
      ${inline ? sql`, 'text', ${text}::text` : sql``})::text) from inserted`.execute(db);
  const row = result.rows[0];
  if (!row) return null;
  return { offset: Number(row.byte_offset), text, bytes };
}

/**
 * Reads a job's log from a byte offset: whole chunks, the first one cut at `fromOffset` when it falls
 * inside it (by trimChunk: an offset inside a multi-byte character starts at the next character), up to
 * about `maxBytes`. Offsets are UTF-8 byte positions, the same ones NOTIFY events carry. Keyset-paged on
 * (job_id, byte_offset), so page 1000 of a 200 MB log costs what page 1 does.
 */
export async function readLog(
  ctx: Pick<ServiceContext, "db">,
  jobId: number,
  fromOffset = 0,
  maxBytes: number = DEFAULT_LOG_PAGE_BYTES,
): Promise<LogPage> {
  if (!Number.isSafeInteger(fromOffset) || fromOffset < 0) {
    throw new ImapferryError("BAD_INPUT", "A log offset is a whole number of bytes, 0 or more.");
  }
  const job = await ctx.db
    .selectFrom("jobs")
    .select(["log_bytes", "status"])
    .where("id", "=", jobId)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  if (!job) throw new ImapferryError("NOT_FOUND", `There is no job ${jobId}.`);
  const { chunks, end } = await readChunks(ctx.db, jobId, fromOffset, maxBytes);
  return {
    chunks,
    nextOffset: end > fromOffset ? end : Math.min(fromOffset, Number(job.log_bytes)),
    logBytes: Number(job.log_bytes),
    status: job.status,
  };
}

/** Chunks from `fromOffset` on, and where the last stored chunk read ends (`fromOffset` if none). */
async function readChunks(
  db: Kysely<Database>,
  jobId: number,
  fromOffset: number,
  maxBytes: number,
): Promise<{ chunks: LogChunk[]; end: number }> {
  // The chunk containing fromOffset starts at the greatest offset <= fromOffset. Offsets are
  // contiguous, so a byte range of offsets bounds the page exactly; the (job_id, byte_offset) unique
  // index answers both parts without touching the rest of the log, however long it is.
  const rows = await sql<{ byte_offset: string; chunk: string; bytes: number }>`
    with start as (
      select coalesce(max(byte_offset), 0) as o from job_logs where job_id = ${jobId} and byte_offset <= ${fromOffset}
    )
    select byte_offset::text, chunk, octet_length(chunk) as bytes
    from job_logs, start
    where job_id = ${jobId}
      and byte_offset >= start.o
      and byte_offset < greatest(start.o + 1, ${fromOffset + maxBytes}::bigint)
    order by job_logs.byte_offset`.execute(db);
  const chunks: LogChunk[] = [];
  let end = fromOffset;
  let total = 0;
  for (const row of rows.rows) {
    const offset = Number(row.byte_offset);
    if (offset + row.bytes <= fromOffset) continue;
    end = offset + row.bytes;
    const piece = trimChunk({ offset, text: row.chunk }, fromOffset);
    // Only the tail of a character was left after fromOffset: nothing to return, but `end` moves past it.
    if (!piece) continue;
    const bytes = piece.offset === offset ? row.bytes : end - piece.offset;
    chunks.push({ offset: piece.offset, text: piece.text, bytes });
    total += bytes;
    if (total >= maxBytes) break;
  }
  return { chunks, end };
}

/**
 * The whole log as an async iterable of chunks, read page by page by offset: a download of a
 * gigabyte log holds one page in memory, never the log. Stops at the log's end as it was when each
 * page was read (a running job's log may grow meanwhile; the download ends at what existed).
 */
export async function* streamLog(
  ctx: Pick<ServiceContext, "db">,
  jobId: number,
  options: { fromOffset?: number; pageBytes?: number } = {},
): AsyncGenerator<LogChunk, void, undefined> {
  let offset = options.fromOffset ?? 0;
  const pageBytes = options.pageBytes ?? 1024 * 1024;
  const job = await ctx.db
    .selectFrom("jobs")
    .select("log_bytes")
    .where("id", "=", jobId)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  if (!job) throw new ImapferryError("NOT_FOUND", `There is no job ${jobId}.`);
  const end = Number(job.log_bytes);
  while (offset < end) {
    const page = await readChunks(ctx.db, jobId, offset, pageBytes);
    if (page.end <= offset) return;
    for (const chunk of page.chunks) {
      if (chunk.offset >= end) return;
      yield chunk;
    }
    offset = page.end;
  }
}
