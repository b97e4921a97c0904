import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createTRPCClient, httpSubscriptionLink } from "@trpc/client";
import { initTRPC, TRPCError, tracked } from "@trpc/server";
import { EventSource } from "eventsource";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { serveSseSubscription } from "./sse-subscriptions.ts";

/*
 * The SSE writer with tRPC's own client on the other end, over real sockets. The router here is a
 * stand-in for ours (whose subscriptions need the database and are tested in test/api-*.test.ts);
 * what is tested is the transport: the wire format, backpressure and cleanup.
 */

const t = initTRPC.create({ sse: { ping: { enabled: false } } });
const events = { pulled: 0, finished: 0, aborted: 0 };

const testRouter = t.router({
  count: t.procedure
    .input(z.object({ upTo: z.number().int().min(1), lastEventId: z.string().nullish() }))
    .subscription(async function* count({ input }) {
      for (let i = Number(input.lastEventId ?? 0) + 1; i <= input.upTo; i++) yield tracked(String(i), i);
    }),
  /** Yields 64 KiB pieces for as long as anyone takes them. */
  firehose: t.procedure.subscription(async function* firehose({ signal }) {
    try {
      for (;;) {
        if (signal?.aborted) {
          events.aborted++;
          return;
        }
        events.pulled++;
        yield "x".repeat(64 * 1024);
      }
    } finally {
      events.finished++;
    }
  }),
  failing: t.procedure.subscription(async function* failing() {
    yield 1;
    throw new TRPCError({ code: "CONFLICT", message: "The job is running." });
  }),
});

let server: Server | undefined;

/** @param beforeServing a pause first, as authentication takes before a real request is served */
async function listen(beforeServing?: () => Promise<void>): Promise<string> {
  const listening = createServer(async function serve(req, res) {
    await beforeServing?.();
    const url = new URL(req.url ?? "/", "http://localhost");
    void serveSseSubscription({
      router: testRouter,
      path: url.pathname.slice(1),
      url,
      headers: new Headers(req.headers as Record<string, string>),
      ctx: {},
      responseHeaders: { "x-content-type-options": "nosniff" },
      res,
    });
  });
  server = listening;
  await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

describe("SSE subscriptions", () => {
  it("is read by tRPC's own client: tracked ids, resuming from lastEventId, the end of the stream", async () => {
    const url = await listen();
    const client = createTRPCClient<typeof testRouter>({
      links: [httpSubscriptionLink({ url, EventSource })],
    });
    const received: { id: string; data: number }[] = [];
    await new Promise<void>((resolve, reject) => {
      client.count.subscribe(
        { upTo: 5, lastEventId: "2" },
        { onData: (event) => received.push(event), onComplete: resolve, onError: reject },
      );
    });
    expect(received).toEqual([
      { id: "3", data: 3 },
      { id: "4", data: 4 },
      { id: "5", data: 5 },
    ]);
  });

  it("sends an error raised mid-stream as tRPC's error, after the events before it", async () => {
    const url = await listen();
    const client = createTRPCClient<typeof testRouter>({
      links: [httpSubscriptionLink({ url, EventSource })],
    });
    const received: number[] = [];
    const error = await new Promise<unknown>((resolve) => {
      client.failing.subscribe(undefined, { onData: (n) => received.push(n), onError: resolve });
    });
    expect(received).toEqual([1]);
    expect(error).toMatchObject({ message: "The job is running.", data: { code: "CONFLICT" } });
  });

  it("stops pulling events while the client does not read, and ends the subscription when it leaves", async () => {
    const url = await listen();
    Object.assign(events, { pulled: 0, finished: 0, aborted: 0 });
    const controller = new AbortController();
    const response = await fetch(`${url}/firehose`, { signal: controller.signal });
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    // Read nothing: once the socket buffers are full the writer must wait, not queue in memory.
    let settled = -1;
    await vi.waitFor(
      async () => {
        const before = events.pulled;
        await new Promise((resolve) => setTimeout(resolve, 300));
        if (events.pulled !== before || before === 0) throw new Error("still pulling");
        settled = before;
      },
      { timeout: 30_000, interval: 0 },
    );
    // Socket and fetch buffers hold a few MB at most; without backpressure this grows without bound.
    expect(settled * 64 * 1024).toBeLessThan(32 * 1024 * 1024);

    controller.abort();
    await vi.waitFor(() => expect(events.finished).toBe(1), { timeout: 30_000 });
  });

  it("starts nothing for a client that left before its request was served", async () => {
    let received = () => {};
    const requestReceived = new Promise<void>((resolve) => (received = resolve));
    let serve = () => {};
    const served = new Promise<void>((resolve) => (serve = resolve));
    const url = await listen(() => {
      received();
      return served;
    });
    Object.assign(events, { pulled: 0, finished: 0, aborted: 0 });
    const controller = new AbortController();
    const request = fetch(`${url}/firehose`, { signal: controller.signal }).catch(() => null);
    await requestReceived;
    controller.abort();
    await request;
    // Give the server the client's close before the request is served.
    await new Promise((resolve) => setTimeout(resolve, 200));
    serve();
    // Had it started, the subscription would fill the dead socket's buffer and then wait forever.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(events.pulled).toBe(0);
  });
});
