import type { LogEvent, LogText } from "@imapferry/core";
import { CHANNELS, trimChunk } from "@imapferry/core";
import { tracked } from "@trpc/server";
import type { RouterDeps } from "../trpc/router-deps.ts";
import { EventQueue } from "./event-queue.ts";
import { HEARTBEAT_MS, WATCH_REFRESH_MS } from "./stream-timing.ts";

/** Statuses after which a job writes no more log. `interrupted` is not one: the job may be resumed. */
const FINAL_STATUSES = new Set(["done", "failed", "cancelled"]);

type TailSignal =
  | { kind: "log"; event: LogEvent }
  | { kind: "status"; status: string }
  | { kind: "resync" }
  | { kind: "heartbeat" };

export interface LogTailOptions {
  jobId: number;
  /** Byte offset to start from: the last event id on a reconnect, else the caller's choice. */
  fromOffset: number;
  signal: AbortSignal | undefined;
}

/**
 * Streams a job's log from a byte offset, live, with no gap and no repeated byte:
 * 1. subscribe to the hub first (and wait until it LISTENs), buffering events, so nothing appended
 *    from then on can be missed;
 * 2. backfill from the stored chunks up to their end;
 * 3. replay live events, skipping bytes already sent and filling any hole from the database.
 * Each yield is tracked by the offset of the byte after it: that is where a reconnect resumes.
 * Ends once the job is final and every byte of its log was sent.
 */
export async function* tailJobLog(deps: RouterDeps, options: LogTailOptions) {
  const { jobId, signal } = options;
  const queue = new EventQueue<TailSignal>(2000);
  const unsubscribeLog = deps.hub.subscribe(CHANNELS.log, function onLogEvent(event) {
    if (event.jobId === jobId) queue.push({ kind: "log", event });
  });
  const unsubscribeJob = deps.hub.subscribe(CHANNELS.job, function onJobEvent(event) {
    if (event.jobId === jobId) queue.push({ kind: "status", status: event.status });
  });
  // NOTIFYs sent while the hub was reconnecting are lost: read the table again.
  const stopReconnect = deps.hub.onReconnect(() => queue.push({ kind: "resync" }));
  const onAbort = () => queue.interrupt();
  signal?.addEventListener("abort", onAbort);
  const watch = () => deps.watches.mark({ jobIds: [jobId] });
  const watchTimer = setInterval(watch, WATCH_REFRESH_MS);
  let sentSinceHeartbeat = true;
  const heartbeatTimer = setInterval(() => queue.push({ kind: "heartbeat" }), HEARTBEAT_MS);
  let position = options.fromOffset;

  function emit(piece: LogText) {
    sentSinceHeartbeat = true;
    position = piece.offset + Buffer.byteLength(piece.text);
    return tracked(String(position), piece);
  }

  /** Everything stored from `position` on; returns the job's status as of the last page read. */
  async function* backfill(): AsyncGenerator<ReturnType<typeof emit>, string> {
    for (;;) {
      const before = position;
      // Pages start at `position`, cut at a character boundary (see core's readLog).
      const page = await deps.logReader.read(jobId, position);
      for (const chunk of page.chunks) yield emit({ offset: chunk.offset, text: chunk.text });
      // Past what was sent, and past a character's tail that was all a chunk had left after `position`.
      position = Math.max(position, page.nextOffset);
      if (position <= before || position >= page.logBytes) return page.status;
    }
  }

  try {
    await Promise.all([unsubscribeLog.ready, unsubscribeJob.ready]);
    watch();
    // A job that was already over when we read it: what is stored is its whole log.
    if (FINAL_STATUSES.has(yield* backfill())) return;
    for (;;) {
      const next = await queue.next(signal);
      if (next === null) return;
      const item = "overflowed" in next ? ({ kind: "resync" } as const) : next.item;
      if (item.kind === "resync") {
        if (FINAL_STATUSES.has(yield* backfill())) return;
        continue;
      }
      if (item.kind === "heartbeat") {
        // Nothing to say for a while: an empty piece at the current offset keeps the stream alive
        // (clients skip it: it ends where they already are).
        if (!sentSinceHeartbeat) yield emit({ offset: position, text: "" });
        sentSinceHeartbeat = false;
        continue;
      }
      if (item.kind === "status") {
        if (item.status === "deleted") return;
        // The worker stores the last chunk before it marks the job final, so this read is complete.
        if (FINAL_STATUSES.has(item.status) && FINAL_STATUSES.has(yield* backfill())) return;
        continue;
      }
      const event = item.event;
      if (event.offset + event.bytes <= position) continue;
      if (event.text !== undefined && event.offset <= position) {
        const piece = trimChunk({ offset: event.offset, text: event.text }, position);
        if (!piece) {
          position = event.offset + event.bytes;
          continue;
        }
        // A subscriber that fell behind gets what is already buffered in one event, not one per
        // chunk: per-event costs then shrink exactly when they would pile up.
        let text = piece.text;
        let end = piece.offset + Buffer.byteLength(piece.text);
        for (
          let next = queue.peek();
          next?.kind === "log" && next.event.text !== undefined && next.event.offset === end;
          next = queue.peek()
        ) {
          queue.shiftAvailable();
          text += next.event.text;
          end += next.event.bytes;
        }
        yield emit({ offset: piece.offset, text });
        continue;
      }
      // A hole before this event, or a chunk too big to ride in the NOTIFY: read it from the table.
      yield* backfill();
    }
  } finally {
    clearInterval(watchTimer);
    clearInterval(heartbeatTimer);
    signal?.removeEventListener("abort", onAbort);
    stopReconnect();
    unsubscribeLog();
    unsubscribeJob();
  }
}
