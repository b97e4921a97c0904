import type { OutgoingMessage } from "./append-messages.ts";
import { appendMessages, storableFlags } from "./append-messages.ts";
import { ByteBoundedQueue } from "./byte-queue.ts";
import { SYNC_EXIT } from "./exit-codes.ts";
import { fetchBodies } from "./fetch-bodies.ts";
import type { FolderPlan } from "./folder-plan.ts";
import type { FolderSyncContext } from "./folder-sync-context.ts";
import { toDate, UIDS_PER_FETCH } from "./mailbox-scan.ts";
import { addedHeader } from "./message-identity.ts";
import { formatCopiedLine, formatEta } from "./output-format.ts";
import { errorText, isConnectionError, isOverQuota } from "./server-errors.ts";
import type { SyncSession } from "./sync-session.ts";

/**
 * Pipeline bounds. The source FETCH streams into a queue of at most QUEUE_BYTES while the
 * destination saves batches of up to BATCH_MESSAGES / BATCH_BYTES in one MULTIAPPEND. Peak
 * memory is roughly queue + one batch + the message being parsed, whatever the mailbox size.
 * Each MULTIAPPEND is one save transaction, and in a large Maildir folder every transaction costs
 * Dovecot a sync of the folder's directory and UID list: 256 small messages per command rather than
 * 64 made the bench's 1 % delta pass into a 100,000-message folder (1,000 messages) about twice as
 * fast, and the first copy of that folder too. BATCH_BYTES still bounds a batch of large messages.
 */
const QUEUE_BYTES = 8 * 1024 * 1024;
const BATCH_BYTES = 4 * 1024 * 1024;
const BATCH_MESSAGES = 256;

/**
 * After a stop signal, how long appends already on the wire may take to be confirmed. Past it the
 * run ends without them (a rerun finds them by identity if the server did save them), so a
 * stalled server cannot keep a cancelled engine alive until the worker's SIGKILL.
 */
const STOP_GRACE_MS = 5000;

/** MULTIAPPEND commands on the wire at once on the pipelined appender. */
const APPENDS_IN_FLIGHT = 2;

/**
 * A message this large is not FETCHed whole: it streams from the source in STREAM_CHUNK_BYTES pieces
 * (partial FETCH, BODY.PEEK[]<offset.length>) straight into one APPEND literal, so copying a 50 MB
 * message costs a few MB of memory instead of several copies of it (parser, queue, batch in flight).
 */
const STREAM_MESSAGE_BYTES = 4 * 1024 * 1024;
const STREAM_CHUNK_BYTES = 1024 * 1024;

export interface WantedMessage {
  uid: number;
  size: number;
  addHeader: boolean;
}

/** What the reports need of a copied message: its bytes are the content's, or counted while streaming. */
interface StreamedMessage {
  sourceUid: number;
  bytes: number;
  flags: string[];
  internalDate: Date | undefined;
}
type CopiedMessage = OutgoingMessage | StreamedMessage;

function bytesOf(message: CopiedMessage): number {
  return "content" in message ? message.content.length : message.bytes;
}

/** A source message's bytes in pieces (partial FETCHes), after `prefix` (an added header, or nothing). */
async function* sourcePieces(
  source: FolderSyncContext["source"],
  uid: number,
  size: number,
  prefix: Buffer,
): AsyncGenerator<Buffer> {
  if (prefix.length > 0) yield prefix;
  for (let start = 0; start < size; ) {
    const row = await source.fetchOne(
      String(uid),
      { uid: true, source: { start, maxLength: Math.min(STREAM_CHUNK_BYTES, size - start) } },
      { uid: true },
    );
    const piece = row ? row.source : undefined;
    if (!piece || piece.length === 0) {
      throw new Error(`The source stopped sending message ${uid} after ${start} of ${size} bytes.`);
    }
    start += piece.length;
    yield piece;
  }
}

class StopDeadline extends Error {
  override readonly name = "StopDeadline";
}

/** A promise that rejects STOP_GRACE_MS after the stop signal; never settles without one. */
function deadlineAfterStop(signal: AbortSignal | undefined): { promise: Promise<never>; dispose(): void } {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const promise = new Promise<never>((_resolve, reject) => {
    onAbort = function startGrace(): void {
      timer = setTimeout(() => reject(new StopDeadline()), STOP_GRACE_MS);
    };
    if (signal?.aborted) {
      onAbort();
    } else {
      signal?.addEventListener("abort", onAbort, { once: true });
    }
  });
  promise.catch(() => undefined);
  return {
    promise,
    dispose(): void {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    },
  };
}

function printEta(session: SyncSession): string {
  return formatEta({
    now: new Date(),
    elapsedSeconds: session.elapsedSeconds(),
    processed: session.counters.processed,
    total: session.counters.total,
  });
}

async function throttle(session: SyncSession, batchCount: number, batchBytes: number): Promise<void> {
  const { maxBytesPerSecond, maxMessagesPerSecond } = session.args;
  if (!maxBytesPerSecond && !maxMessagesPerSecond) {
    return;
  }
  const c = session.counters;
  const needed = Math.max(
    maxMessagesPerSecond ? (c.transferred + batchCount) / maxMessagesPerSecond : 0,
    maxBytesPerSecond ? (c.bytesTransferred + batchBytes) / maxBytesPerSecond : 0,
  );
  const wait = needed - session.elapsedSeconds();
  if (wait <= 0) {
    return;
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, wait * 1000);
    const signal = session.io.signal;
    signal?.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * The pipeline: one FETCH stream on the source connection feeding a byte-bounded queue, and
 * MULTIAPPEND batches on the destination connection draining it, both in flight at once.
 * Returns how many messages were copied.
 */
export async function copyMessages(
  ctx: FolderSyncContext,
  plan: FolderPlan,
  wanted: WantedMessage[],
): Promise<number> {
  const { session, source, destination } = ctx;
  const throttled = Boolean(session.args.maxBytesPerSecond || session.args.maxMessagesPerSecond);
  // Streaming needs the raw appender (LITERAL+); a throttled run keeps its message-by-message pacing.
  const streams = ctx.appender !== undefined && !throttled;
  const streamed = streams ? wanted.filter((message) => message.size >= STREAM_MESSAGE_BYTES) : [];
  const whole = streams ? wanted.filter((message) => message.size < STREAM_MESSAGE_BYTES) : wanted;

  const queue = new ByteBoundedQueue<OutgoingMessage>(QUEUE_BYTES);
  const batchMessages = throttled ? 1 : BATCH_MESSAGES;
  let consumerDone = false;
  let fetchError: unknown;
  let copied = 0;

  async function produce(): Promise<void> {
    try {
      for (let first = 0; first < whole.length; first += UIDS_PER_FETCH) {
        // A lookup per FETCH command, not one for the whole folder: 100,000 entries held to the end
        // of the copy were megabytes of a bounded-memory engine.
        const chunk = whole.slice(first, first + UIDS_PER_FETCH);
        const byUid = new Map(chunk.map((message) => [message.uid, message]));
        let carryOn = true;
        await fetchBodies(source, [...byUid.keys()], async (row) => {
          if (session.stopping || consumerDone || session.halt !== undefined) {
            carryOn = false;
            return false;
          }
          const want = byUid.get(row.uid);
          if (!want) return true;
          const content = want.addHeader ? Buffer.concat([addedHeader(row.uid), row.source]) : row.source;
          carryOn = await queue.put(
            {
              sourceUid: row.uid,
              size: row.source.length,
              flags: storableFlags(row.flags),
              internalDate: row.internalDate,
              content,
            },
            content.length,
          );
          return carryOn;
        });
        if (!carryOn) return;
      }
    } catch (e: unknown) {
      if (!session.stopping && !consumerDone) {
        fetchError = e;
      }
    } finally {
      queue.close();
    }
  }

  function reportCopied(message: CopiedMessage, destinationUid: number | undefined): void {
    const c = session.counters;
    const bytes = bytesOf(message);
    copied += 1;
    ctx.ledger?.copied(message.sourceUid, destinationUid);
    c.transferred += 1;
    c.processed += 1;
    c.bytesTransferred += bytes;
    c.biggestTransferred = Math.max(c.biggestTransferred, bytes);
    const limit = session.args.exitWhenOver;
    if (limit !== undefined && c.bytesTransferred >= limit && session.halt === undefined) {
      session.halt = SYNC_EXIT.transferExceeded;
    }
    const seconds = Math.max(session.elapsedSeconds(), 0.001);
    session.write(
      formatCopiedLine({
        sourceFolder: plan.source.wireName,
        sourceUid: message.sourceUid,
        size: bytes,
        destinationFolder: plan.destinationWireName,
        destinationUid,
        messagesPerSecond: c.transferred / seconds,
        bytesPerSecond: c.bytesTransferred / seconds,
        bytesCopied: c.bytesTransferred,
        eta: printEta(session),
      }),
    );
  }

  function reportFailed(message: CopiedMessage, e: unknown): void {
    session.counters.processed += 1;
    const date = message.internalDate ? message.internalDate.toUTCString() : "";
    const bytes = bytesOf(message);
    session.error(
      isOverQuota(e) ? "ERR_OVERQUOTA" : "ERR_APPEND",
      `- msg ${plan.source.wireName}/${message.sourceUid} {${bytes}} could not append ( Date:[${date}], Size:[${bytes}], Flags:[${message.flags.join(" ")}] ) to folder ${plan.destinationWireName}: ${errorText(e)}`,
    );
  }

  /** Appends a batch and reports it; on failure retries one by one to find the message at fault. */
  const stop = deadlineAfterStop(session.io.signal);
  let abandoned = false;
  let connectionLost = false;

  async function settle(batch: OutgoingMessage[], attempt: Promise<(number | undefined)[]>): Promise<void> {
    try {
      const uids = await Promise.race([attempt, stop.promise]);
      for (const [i, message] of batch.entries()) {
        reportCopied(message, uids[i]);
      }
      return;
    } catch (e: unknown) {
      if (e instanceof StopDeadline) {
        abandoned = true;
        return;
      }
      if (isOverQuota(e)) {
        // Nothing more will fit: stop the whole run rather than fail every message after it.
        for (const message of batch) {
          reportFailed(message, e);
        }
        session.halt = SYNC_EXIT.overQuota;
        return;
      }
      if (destinationGone(e)) {
        reportConnectionLost(e);
        return;
      }
    }
    // A MULTIAPPEND is all or nothing: one by one, through imapflow, pinpoints the culprit.
    for (const message of batch) {
      if (session.halt !== undefined || session.stopping) {
        return;
      }
      try {
        const [uid] = await Promise.race([appendOne(message), stop.promise]);
        reportCopied(message, uid);
      } catch (single: unknown) {
        if (single instanceof StopDeadline) {
          abandoned = true;
          return;
        }
        if (destinationGone(single)) {
          reportConnectionLost(single);
          return;
        }
        reportFailed(message, single);
        if (isOverQuota(single)) {
          session.halt = SYNC_EXIT.overQuota;
        }
      }
    }
  }

  /**
   * One message through imapflow. Some servers refuse keywords they do not know (or any, when
   * PERMANENTFLAGS lacks \*) and fail the whole APPEND: it is tried once more with the system
   * flags only, and the dropped keywords are named in the log.
   */
  async function appendOne(message: OutgoingMessage): Promise<(number | undefined)[]> {
    try {
      return await appendMessages(destination, plan.destinationPath, [message], false);
    } catch (e: unknown) {
      const systemFlags = message.flags.filter((flag) => flag.startsWith("\\"));
      if (systemFlags.length === message.flags.length || destinationGone(e) || isOverQuota(e)) {
        throw e;
      }
      const uids = await appendMessages(
        destination,
        plan.destinationPath,
        [{ ...message, flags: systemFlags }],
        false,
      );
      const dropped = message.flags.filter((flag) => !flag.startsWith("\\"));
      session.write(
        `Host2: msg ${plan.source.wireName}/${message.sourceUid} appended without the keywords [${dropped.join(" ")}] the server refused: ${errorText(e)}`,
      );
      return uids;
    }
  }

  /**
   * A dropped destination connection fails every later append the same way: it is reported
   * once and ends this pass over the folder, and the caller reconnects and passes again.
   */
  function destinationGone(e: unknown): boolean {
    return (
      isConnectionError(e) || !destination.usable || (ctx.appender !== undefined && !ctx.appender.usable)
    );
  }

  function reportConnectionLost(e: unknown): void {
    if (!connectionLost) {
      connectionLost = true;
      session.error(
        "ERR_APPEND",
        `Host2: connection lost while appending to folder ${plan.destinationWireName}: ${errorText(e)}`,
      );
    }
  }

  function send(batch: OutgoingMessage[]): Promise<(number | undefined)[]> {
    if (ctx.appender) {
      return ctx.appender.multiAppend(plan.destinationWireName, batch);
    }
    return appendMessages(destination, plan.destinationPath, batch, ctx.multiAppend);
  }

  /**
   * The messages of `batch` that keep the run within --exitwhenover, counting what is already on the
   * wire; when some do not fit, the run halts after them (EXIT_TRANSFER_EXCEEDED). A byte budget
   * (the worker passes what is left of a server's daily budget) is thus never overrun by the
   * pipeline's depth; only a run's very first message may exceed it, or a message bigger than the
   * whole budget would never be copied.
   */
  function withinTransferLimit(batch: OutgoingMessage[]): OutgoingMessage[] {
    const limit = session.args.exitWhenOver;
    if (limit === undefined) {
      return batch;
    }
    let committed = session.counters.bytesTransferred + session.bytesInFlight;
    let fits = 0;
    for (const message of batch) {
      if (committed > 0 && committed + message.content.length > limit) {
        break;
      }
      committed += message.content.length;
      fits += 1;
    }
    if (fits < batch.length && session.halt === undefined) {
      session.halt = SYNC_EXIT.transferExceeded;
    }
    return fits < batch.length ? batch.slice(0, fits) : batch;
  }

  async function consume(): Promise<void> {
    const inFlight: { batch: OutgoingMessage[]; attempt: Promise<(number | undefined)[]>; bytes: number }[] =
      [];
    const depth = ctx.appender && !throttled ? APPENDS_IN_FLIGHT : 1;
    async function settleOldest(): Promise<void> {
      const oldest = inFlight.shift();
      if (oldest) {
        try {
          await settle(oldest.batch, oldest.attempt);
        } finally {
          // Released only now that what was saved is counted as transferred: released when the
          // APPEND answered, the bytes were counted nowhere until then, and another lane could pass
          // --exitwhenover in that gap.
          session.bytesInFlight -= oldest.bytes;
        }
      }
    }
    try {
      while (!session.stopping && session.halt === undefined) {
        const taken = await queue.takeBatch(batchMessages, BATCH_BYTES);
        if (taken.length === 0 || session.stopping) {
          break;
        }
        const batch = withinTransferLimit(taken);
        if (batch.length === 0) {
          break;
        }
        // Reserved against --exitwhenover in the same turn as the decision: a lane deciding next
        // counts these bytes whatever this one awaits first.
        const batchBytes = batch.reduce((sum, message) => sum + message.content.length, 0);
        session.bytesInFlight += batchBytes;
        try {
          await throttle(session, batch.length, batchBytes);
        } catch (e: unknown) {
          session.bytesInFlight -= batchBytes;
          throw e;
        }
        const attempt = send(batch);
        // Settled later, in order; until then a rejection is not unhandled.
        attempt.catch(() => undefined);
        inFlight.push({ batch, attempt, bytes: batchBytes });
        if (inFlight.length >= depth) {
          await settleOldest();
        }
        if (abandoned || connectionLost) {
          break;
        }
      }
      // What is already on the wire completes even on a stop, so the statistics match the
      // destination exactly and a rerun neither misses nor duplicates those messages.
      while (inFlight.length > 0 && !abandoned && !connectionLost) {
        await settleOldest();
      }
    } finally {
      // Batches given up (a lost connection, the stop deadline) are no longer on their way.
      for (const entry of inFlight.splice(0)) session.bytesInFlight -= entry.bytes;
      stop.dispose();
      consumerDone = true;
      queue.clear();
      queue.close();
    }
  }

  /**
   * The large messages, one at a time once the pipeline has settled (the appender then carries no
   * other command): flags and date first, then the body in pieces into one APPEND.
   */
  async function streamLarge(appender: NonNullable<FolderSyncContext["appender"]>): Promise<void> {
    for (const want of streamed) {
      if (session.stopping || session.halt !== undefined || abandoned || connectionLost) return;
      // --exitwhenover as in the pipeline: a big message that would pass it is left for the next run.
      const limit = session.args.exitWhenOver;
      const sent = session.counters.bytesTransferred + session.bytesInFlight;
      const prefix = want.addHeader ? addedHeader(want.uid) : Buffer.alloc(0);
      const reserved = prefix.length + want.size;
      if (limit !== undefined && sent > 0 && sent + reserved > limit) {
        session.halt = SYNC_EXIT.transferExceeded;
        return;
      }
      // Reserved at once, as in the pipeline, until the message is counted as transferred or given up.
      session.bytesInFlight += reserved;
      let message: StreamedMessage | undefined;
      try {
        const meta = await source.fetchOne(
          String(want.uid),
          { uid: true, flags: true, internalDate: true, size: true },
          { uid: true },
        );
        if (!meta || meta.size === undefined) continue; // expunged on the source meanwhile
        message = {
          sourceUid: want.uid,
          bytes: prefix.length + meta.size,
          flags: storableFlags(meta.flags ?? []),
          internalDate: toDate(meta.internalDate),
        };
        const size = message.bytes;
        const uid = await appender.appendStream(
          plan.destinationWireName,
          { flags: message.flags, internalDate: message.internalDate, size },
          sourcePieces(source, want.uid, meta.size, prefix),
        );
        reportCopied(message, uid);
      } catch (e: unknown) {
        if (destinationGone(e)) {
          reportConnectionLost(e);
          return;
        }
        if (!message) {
          fetchError = e;
          return;
        }
        reportFailed(message, e);
        if (isOverQuota(e)) {
          session.halt = SYNC_EXIT.overQuota;
          return;
        }
      } finally {
        session.bytesInFlight -= reserved;
      }
    }
  }

  const producer = produce();
  await consume();
  if (!session.stopping) {
    // On a stop the FETCH may still be streaming; the connection is closed instead of drained.
    await producer;
  }
  if (ctx.appender && streamed.length > 0 && fetchError === undefined) await streamLarge(ctx.appender);
  if (fetchError !== undefined) {
    session.error(
      "ERR_FETCH",
      `Host1: could not fetch messages from folder ${plan.source.wireName}: ${errorText(fetchError)}`,
    );
  }
  return copied;
}
