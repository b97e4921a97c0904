import type { AppRouter } from "@imapferry/server";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { EventSource } from "eventsource";
import type { BatchHelpers } from "./batches.ts";
import { createBatchHelpers } from "./batches.ts";
import type { LogHelpers } from "./logs.ts";
import { createLogHelpers } from "./logs.ts";
import type { ApiClient, ClientCore, FetchLike } from "./types.ts";
import type { WatchHelpers } from "./watch-jobs.ts";
import { createWatchHelpers } from "./watch-jobs.ts";

export interface ClientOptions {
  /** Where imapferry runs, e.g. "https://migrations.example.com" (the API is under /trpc). */
  url: string;
  /** An API token (`imapferry` panel → Tokens, or `tokens.create`), sent as `Authorization: Bearer`. */
  token?: string;
  /**
   * Cookie mode, for the panel in a browser: `"include"` (or `"same-origin"`) sends the session cookie
   * set by `auth.login`. @defaultValue "same-origin" when no token is given, else "omit"
   */
  credentials?: "include" | "same-origin" | "omit";
  /** A fetch implementation (a proxy agent, a test double). @defaultValue globalThis.fetch */
  fetch?: FetchLike;
}

/** The API client plus helpers for what a control panel does most. */
export type ImapferryClient = ApiClient & BatchHelpers & LogHelpers & WatchHelpers;

/**
 * Creates a client. Queries and mutations go over HTTP with batching; subscriptions (live logs and job
 * events) over Server-Sent Events, reconnecting by themselves and resuming where they stopped.
 *
 * @example
 * const imapferry = createClient({ url: "https://migrations.example.com", token: process.env.IMAPFERRY_TOKEN });
 * const servers = await imapferry.servers.list.query();
 */
export function createClient(options: ClientOptions): ImapferryClient {
  const baseUrl = options.url.replace(/\/+$/, "");
  const trpcUrl = `${baseUrl}/trpc`;
  const baseFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const credentials = options.credentials ?? (options.token ? "omit" : "same-origin");
  const authorization = options.token ? `Bearer ${options.token}` : null;

  const authedFetch: FetchLike = function authedFetch(input, init = {}) {
    const headers = new Headers(init.headers);
    if (authorization) headers.set("Authorization", authorization);
    return baseFetch(input, { ...init, headers, credentials });
  };

  const api = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({
          url: trpcUrl,
          // The eventsource package (not the browser's EventSource) because it takes a fetch: the token
          // rides in a header, never in the URL where proxies and logs would keep it.
          EventSource,
          eventSourceOptions: { fetch: authedFetch },
        }),
        false: httpBatchLink({ url: trpcUrl, fetch: authedFetch }),
      }),
    ],
  });

  const core: ClientCore = { api, baseUrl, fetch: authedFetch };
  const helpers = { ...createBatchHelpers(core), ...createLogHelpers(core), ...createWatchHelpers(core) };
  // The tRPC client is a proxy over procedure paths; helper names never collide with router keys.
  return new Proxy(helpers, {
    get(target, property, receiver) {
      if (typeof property === "string" && Object.hasOwn(target, property))
        return Reflect.get(target, property, receiver);
      return (api as unknown as Record<PropertyKey, unknown>)[property];
    },
  }) as unknown as ImapferryClient;
}
