import type { ServiceContext } from "@imapferry/core";
import { ImapferryError } from "@imapferry/core";

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
  /** Whole stored chunks, the first one containing `fromOffset` (callers cut it with trimChunk). */
  chunks: LogText[];
  /** Everything written so far, in bytes. */
  logBytes: number;
  status: string;
}

export interface LogReader {
  read(jobId: number, fromOffset: number): Promise<LogPage>;
}

/** About this many bytes of chunks per page. */
const PAGE_BYTES = 256 * 1024;

/**
 * A page of a job's log from `fromOffset`, as whole chunks. Whole, because a byte offset can fall
 * inside a multi-byte character: cutting the text is left to trimChunk, which moves to the next
 * character instead of producing U+FFFD. Keyset-paged on (job_id, byte_offset), so page 1000 of a
 * 200 MB log costs what page 1 does.
 */
export async function readLogPage(
  ctx: Pick<ServiceContext, "db">,
  jobId: number,
  fromOffset: number,
): Promise<LogPage> {
  const job = await ctx.db
    .selectFrom("jobs")
    .select(["status", "log_bytes"])
    .where("id", "=", jobId)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  if (!job) throw new ImapferryError("NOT_FOUND", `There is no job ${jobId}.`);
  const start = await ctx.db
    .selectFrom("job_logs")
    .select("byte_offset")
    .where("job_id", "=", jobId)
    .where("byte_offset", "<=", String(fromOffset))
    .orderBy("byte_offset", "desc")
    .limit(1)
    .executeTakeFirst();
  const rows = await ctx.db
    .selectFrom("job_logs")
    .select(["byte_offset", "chunk"])
    .where("job_id", "=", jobId)
    .where("byte_offset", ">=", start?.byte_offset ?? "0")
    .where("byte_offset", "<", String(Math.max(Number(start?.byte_offset ?? 0) + 1, fromOffset + PAGE_BYTES)))
    .orderBy("byte_offset")
    .execute();
  return {
    chunks: rows.map((row) => ({ offset: Number(row.byte_offset), text: row.chunk })),
    logBytes: Number(job.log_bytes),
    status: job.status,
  };
}

/**
 * Reads log pages, sharing identical reads in flight: when 500 followers of one job all need the chunk
 * that did not fit in a NOTIFY, the database answers once.
 */
export function createCoalescingLogReader(ctx: Pick<ServiceContext, "db">): LogReader {
  const inFlight = new Map<string, Promise<LogPage>>();
  return {
    read(jobId, fromOffset) {
      const key = `${jobId}:${fromOffset}`;
      const pending = inFlight.get(key);
      if (pending) return pending;
      const read = readLogPage(ctx, jobId, fromOffset).finally(() => inFlight.delete(key));
      inFlight.set(key, read);
      return read;
    },
  };
}
