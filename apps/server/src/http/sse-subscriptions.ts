import type { ServerResponse } from "node:http";
import type { AnyTRPCRouter } from "@trpc/server";
import {
  callTRPCProcedure,
  getTRPCErrorFromUnknown,
  getTRPCErrorShape,
  isTrackedEnvelope,
  TRPCError,
} from "@trpc/server";

/*
 * tRPC subscriptions over SSE, written straight onto Node's response.
 *
 * Why not tRPC's own fetch adapter: it passes every event through four Web Streams (a stream from the
 * generator, an SSE TransformStream, a TextEncoderStream, an abort wrapper) and @hono/node-server then
 * reads that stream again; each event becomes five chunks, each with its own promises. On Node 20,
 * with 500 followers of one log, that saturated a core and left ~300 MB of short-lived garbage to V8.
 * Here an event is one string and one write.
 *
 * The wire format is tRPC's (v11 sseStreamProducer), so @trpc/client's httpSubscriptionLink reads it
 * unchanged: a `connected` event with the client options, `data:` (JSON) with `id:` for tracked()
 * items, `return` at the end, `serialized-error` for an error. Procedures run through
 * callTRPCProcedure, so middlewares, input validation and the error formatter apply as for any call.
 */

export interface SseSubscriptionOptions<TContext> {
  router: AnyTRPCRouter;
  /** The procedure path, e.g. "logs.tail". */
  path: string;
  url: URL;
  headers: Headers;
  ctx: TContext;
  /** Headers every response carries (security headers). */
  responseHeaders: Record<string, string>;
  res: ServerResponse;
  /** Ends the stream (without a `return` event, so the client reconnects and is asked to log in). */
  stop?: AbortSignal;
  /** Called with errors the procedure threw (before or while streaming). */
  onError?: (opts: { error: TRPCError; path: string }) => void;
}

/** Whether `path` names a subscription procedure of `router`: only those are served here. */
export function isSubscriptionPath(router: AnyTRPCRouter, path: string): boolean {
  const procedures = router._def.procedures as Record<string, { _def?: { type?: string } } | undefined>;
  return procedures[path]?._def?.type === "subscription";
}

/**
 * Serves one subscription request until the procedure ends or the client goes away. Never throws:
 * every failure reaches the client as a `serialized-error` event.
 *
 * Subscriptions served here must watch the `signal` they get: it aborts when the client disconnects,
 * and the next event is awaited without racing it (a race per event is what made tRPC's ping costly).
 */
export async function serveSseSubscription<TContext>(
  options: SseSubscriptionOptions<TContext>,
): Promise<void> {
  const { router, path, url, headers, ctx, res } = options;
  const config = router._def._config;
  const serialize = (value: unknown) => JSON.stringify(config.transformer.output.serialize(value));
  const closed = new AbortController();
  res.on("close", () => closed.abort());
  if (options.stop?.aborted) closed.abort();
  options.stop?.addEventListener("abort", () => closed.abort(), { once: true });
  // The client may have left while the request was authenticated: 'close' has fired already then, and
  // a subscription started now would wait for a 'drain' that never comes, for good.
  if (res.destroyed || closed.signal.aborted) {
    res.end();
    return;
  }
  res.writeHead(200, {
    ...options.responseHeaders,
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",
    Connection: "keep-alive",
  });
  res.write(frame({ event: "connected", data: JSON.stringify(config.sse?.client ?? {}) }));

  const lastEventId = requestedLastEventId(url, headers);
  let input: unknown;
  let iterator: AsyncIterator<unknown> | undefined;
  try {
    input = readInput(url, config.transformer.input.deserialize, lastEventId);
    const result: unknown = await callTRPCProcedure({
      router,
      path,
      getRawInput: async () => input,
      ctx,
      type: "subscription",
      signal: closed.signal,
      batchIndex: 0,
    });
    if (!isAsyncIterable(result)) {
      throw new TRPCError({
        code: "INTERNAL_SERVER_ERROR",
        message: `Subscription ${path} did not return an async generator.`,
      });
    }
    iterator = result[Symbol.asyncIterator]();
    let restoreId = lastEventId;
    for (;;) {
      const next = await iterator.next();
      if (next.done || closed.signal.aborted) break;
      let text: string;
      if (isTrackedEnvelope(next.value)) {
        const [id, data] = next.value;
        if (/[\0\n\r]/.test(id))
          throw new Error(`An event id may not contain a line break: ${JSON.stringify(id)}`);
        restoreId = id;
        text = frame({ data: serialize(data), id });
      } else if (restoreId === null) {
        text = frame({ data: serialize(next.value) });
      } else {
        // An event without an id after one with an id: like tRPC, send it with an empty id and then
        // put the last id back, so a reconnect still resumes from it.
        text =
          frame({ data: serialize(next.value), id: "" }) +
          frame({ event: "restore-id", data: "", id: restoreId });
      }
      if (!res.write(text)) await drained(res, closed.signal);
    }
    if (!closed.signal.aborted) res.write(frame({ event: "return", data: "" }));
  } catch (cause) {
    if (!closed.signal.aborted) {
      const error = getTRPCErrorFromUnknown(cause);
      options.onError?.({ error, path });
      res.write(
        frame({
          event: "serialized-error",
          data: serialize(getTRPCErrorShape({ config, error, type: "subscription", path, input, ctx })),
        }),
      );
    }
  } finally {
    closed.abort();
    // Let the generator run its `finally` (unsubscribe, timers); its own errors there are not the client's.
    await Promise.resolve()
      .then(() => iterator?.return?.())
      .catch(() => {});
    res.end();
  }
}

function frame(fields: { event?: string; data: string; id?: string }): string {
  let text = "";
  if (fields.event !== undefined) text += `event: ${fields.event}\n`;
  text += `data: ${fields.data}\n`;
  if (fields.id !== undefined) text += `id: ${fields.id}\n`;
  return `${text}\n`;
}

/** The input as tRPC's GET encoding carries it, with the reconnect's last event id merged in. */
function readInput(url: URL, deserialize: (v: unknown) => unknown, lastEventId: string | null): unknown {
  const raw = url.searchParams.get("input");
  let input: unknown;
  if (raw !== null) {
    try {
      input = deserialize(JSON.parse(raw));
    } catch {
      throw new TRPCError({ code: "PARSE_ERROR", message: "The `input` query parameter is not valid JSON." });
    }
  }
  if (lastEventId === null) return input;
  if (input !== null && typeof input === "object" && !Array.isArray(input)) return { ...input, lastEventId };
  return input ?? { lastEventId };
}

/** Where a reconnecting client resumes: EventSource's header, or the query parameter tRPC's link sends. */
function requestedLastEventId(url: URL, headers: Headers): string | null {
  const id =
    headers.get("last-event-id") ??
    url.searchParams.get("lastEventId") ??
    url.searchParams.get("Last-Event-Id");
  return id && !/[\0\n\r]/.test(id) ? id : null;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && typeof value === "object" && Symbol.asyncIterator in value;
}

/** Resolves when the socket takes writes again, or the client went away. */
function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    res.on("drain", done);
    signal.addEventListener("abort", done);
  });
}
