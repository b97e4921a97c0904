import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { serve } from "@hono/node-server";
import type {
  LoginRateLimits,
  NotificationWorker,
  ResolvedEngine,
  ServiceContext,
  SettingsPatch,
  WorkerHandle,
} from "@imapferry/core";
import {
  createVault,
  ensureInitialAdmin,
  parseDenyHosts,
  resolveEngine,
  silentLogger,
  startNotificationWorker,
  startPlanScheduler,
  startWebhookWorker,
  startWorker,
  systemClock,
  updateSettings,
} from "@imapferry/core";
import type { DatabaseHandle } from "@imapferry/db";
import { openDatabase } from "@imapferry/db";
import type { TestDatabase } from "@imapferry/db/testing";
import { createTestDatabase } from "@imapferry/db/testing";
import { freePort } from "@imapferry/testkit";
import type { HttpApp } from "../src/http/app.ts";
import { createHttpApp } from "../src/http/app.ts";

/** Every response body the client received, as text, to search for secrets afterwards. */
export class ResponseRecorder {
  readonly bodies: { url: string; status: number; text: string }[] = [];

  /** A fetch that passes every response through unchanged while copying its body here as it streams. */
  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await globalThis.fetch(input, init);
    const record = {
      url: String(input instanceof Request ? input.url : input),
      status: response.status,
      text: "",
    };
    this.bodies.push(record);
    if (!response.body) return response;
    const decoder = new TextDecoder();
    const tap = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        record.text += decoder.decode(chunk, { stream: true });
        controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(tap), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };

  /** Bodies that contain `secret`. */
  containing(secret: string): { url: string; status: number }[] {
    return this.bodies
      .filter((body) => body.text.includes(secret))
      .map(({ url, status }) => ({ url, status }));
  }
}

/**
 * A fetch through `recorder` that keeps the session cookie the API sets, as a browser would: for an
 * SDK client signed in with auth.login.
 */
export function cookieSessionFetch(
  recorder: ResponseRecorder,
): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  let cookie = "";
  return async function fetchWithSession(input, init) {
    const headers = new Headers(init?.headers);
    if (cookie) headers.set("cookie", cookie);
    const response = await recorder.fetch(input, { ...init, headers });
    const setCookie = response.headers.get("set-cookie");
    if (setCookie) cookie = setCookie.split(";")[0] ?? "";
    return response;
  };
}

export interface ApiTestServer {
  url: string;
  ctx: ServiceContext;
  database: TestDatabase;
  engine: ResolvedEngine;
  /** null when started with `worker: false`. */
  worker: WorkerHandle | null;
  /** The generated admin password (printed once on a real first start). */
  adminPassword: string;
  webRoot: string;
  /** Stops the HTTP side and starts it again on the same port; the worker keeps running. */
  restartHttp(): Promise<void>;
  stop(): Promise<void>;
}

function listen(app: HttpApp, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.app.fetch, port, hostname: "127.0.0.1" }) as Server;
    server.once("listening", () => resolve(server));
    server.once("error", reject);
  });
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * The API as `imapferry start` runs it, in-process: a fresh database, the built-in engine, a worker
 * and the HTTP app on a free loopback port.
 */
export async function startApiTestServer(
  options: {
    loginRateLimits?: Partial<LoginRateLimits>;
    trustedProxies?: string[];
    /** IMAPFERRY_DENY_HOSTS entries, for the API and the worker alike. */
    denyHosts?: string[];
    /** Run a worker in the API's process, as `imapferry start` does. @defaultValue true */
    worker?: boolean;
    /**
     * The URL the API connects with, given the test database's (to pass it through a TCP proxy).
     * `database` stays a direct connection for the test's own queries. @defaultValue the same URL
     */
    connectThrough?: (connectionString: string) => string | Promise<string>;
    /** Settings stored before the worker starts (it reads them at start, then at each heartbeat). */
    settings?: SettingsPatch;
    /**
     * Email through an SMTP server on this loopback port (SMTP_URL and NOTIFY_FROM set), with the
     * notification runner beside the worker. @defaultValue emails off
     */
    smtpPort?: number;
    /** Passwords tried on mailbox owners' links, per address and link. @defaultValue the defaults */
    ownerLinkRateLimits?: Partial<LoginRateLimits>;
    /** The first webhook retry's delay (before jitter). @defaultValue 200 ms, so retries come within seconds */
    webhookRetryBaseMs?: number;
  } = {},
): Promise<ApiTestServer> {
  const database = await createTestDatabase();
  const own: DatabaseHandle | null = options.connectThrough
    ? openDatabase(await options.connectThrough(database.connectionString))
    : null;
  const ctx: ServiceContext = {
    db: (own ?? database).db,
    pool: (own ?? database).pool,
    vault: createVault({ keys: { test: randomBytes(32) }, currentKeyId: "test" }),
    log: silentLogger,
    clock: systemClock,
    denyHosts: parseDenyHosts(options.denyHosts ?? []),
  };
  if (options.settings) await updateSettings(ctx, options.settings);
  const engine = await resolveEngine({ engine: "builtin" });
  const worker =
    options.worker === false ? null : await startWorker({ ctx, engine, concurrency: 4, heartbeatMs: 1000 });
  // Batch plans' ticks run beside the worker, as in `imapferry start`.
  const plans = options.worker === false ? null : await startPlanScheduler(ctx, { pollIntervalMs: 200 });
  // Webhook deliveries run beside the worker too; retries scheduled ahead are looked for every 200 ms.
  const webhooks =
    options.worker === false
      ? null
      : await startWebhookWorker({ ctx, retryBaseMs: options.webhookRetryBaseMs ?? 200, pollInterval: 200 });
  const webRoot = await mkdtemp(path.join(tmpdir(), "imapferry-web-"));
  await writeFile(
    path.join(webRoot, "index.html"),
    "<!doctype html><title>imapferry</title><div id=app></div>",
  );
  const adminPassword = (await ensureInitialAdmin(ctx)) ?? "";
  // The port is chosen first so the public URL (redirect URIs, links in emails) is the real one.
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const smtp = options.smtpPort ? { url: `smtp://127.0.0.1:${options.smtpPort}` } : undefined;
  const notifyFrom = "imapferry <ferry@api.example>";
  const runtime = {
    ctx,
    engine,
    databaseKind: "external" as const,
    config: { publicUrl, ...(smtp ? { smtp, notifyFrom } : {}) },
  };
  const notifications: NotificationWorker | null =
    options.worker === false
      ? null
      : await startNotificationWorker({ ctx, smtp, from: notifyFrom, publicUrl, pollInterval: 200 });
  const open = () =>
    createHttpApp({
      runtime,
      webRoot,
      ...(options.loginRateLimits ? { loginRateLimits: options.loginRateLimits } : {}),
      ...(options.ownerLinkRateLimits ? { ownerLinkRateLimits: options.ownerLinkRateLimits } : {}),
      ...(options.trustedProxies ? { trustedProxies: options.trustedProxies } : {}),
    });
  let http = await open();
  let server = await listen(http, port);
  return {
    url: `http://127.0.0.1:${port}`,
    ctx,
    database,
    engine,
    worker,
    adminPassword,
    webRoot,
    async restartHttp() {
      await closeServer(server);
      await http.close();
      http = await open();
      server = await listen(http, port);
    },
    async stop() {
      await closeServer(server);
      await http.close();
      await plans?.stop();
      await notifications?.stop();
      await webhooks?.stop();
      await worker?.stop();
      await own?.close();
      await database.drop();
      await rm(webRoot, { recursive: true, force: true });
    },
  };
}
