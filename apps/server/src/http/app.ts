import type { HttpBindings } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { LoginRateLimits, ServiceContext, SmtpConfig } from "@imapferry/core";
import {
  createEventHub,
  csvTemplate,
  errorMessage,
  LoginRateLimiter,
  notificationStatus,
} from "@imapferry/core";
import type { TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { Context } from "hono";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { createCoalescingLogReader } from "../live/coalescing-log-reader.ts";
import { createWatchRecorder } from "../live/watch-recorder.ts";
import { appRouter } from "../router/index.ts";
import { createRequestContext } from "../trpc/context.ts";
import type { RouterDeps } from "../trpc/router-deps.ts";
import { version } from "../version.ts";
import type { AuthenticatedEnv, Authentication } from "./authenticate.ts";
import { authenticate } from "./authenticate.ts";
import { createBatchReportDownloadHandler } from "./batch-report-download.ts";
import { createClientAddressResolver } from "./client-address.ts";
import { createCredentialWatch } from "./credential-watch.ts";
import type { HealthReport } from "./health.ts";
import { createHealthProvider, healthHttpStatus, PROBE_DEADLINE_MS, publicHealth } from "./health.ts";
import { createLogDownloadHandler } from "./log-download.ts";
import { oauth2CallbackRoutes } from "./oauth2-callback.ts";
import { createOwnerLinkPage } from "./owner-link-page.ts";
import type { BodyProblem } from "./request-body.ts";
import { jsonNestedDeeperThan, MAX_JSON_DEPTH, readBoundedBody, tooDeep } from "./request-body.ts";
import { checkMutationOrigin } from "./request-origin.ts";
import { createOpenApiDocument } from "./rest/openapi.ts";
import { mountRestApi } from "./rest/rest-api.ts";
import { securityHeaders, securityHeaderValues } from "./security-headers.ts";
import { isSubscriptionPath, serveSseSubscription } from "./sse-subscriptions.ts";
import { createPanelHandler } from "./static-panel.ts";

/** Calls anyone may make (auth.login): a user name and a password fit many times over. */
const PUBLIC_BODY_BYTES = 16 * 1024;
/** Authenticated calls; the largest is jobs.bulk with 100,000 job ids (~700 KB). */
const AUTHENTICATED_BODY_BYTES = 1024 * 1024;
/** An authenticated CSV import or preview: at most 32 MiB of text, JSON-escaped. */
const CSV_BODY_BYTES = 40 * 1024 * 1024;
const CSV_PROCEDURES = new Set(["batches.import", "batches.preview"]);
/** Calls per batched HTTP request: a panel batches a handful; more is a mistake or abuse. */
const MAX_BATCH_SIZE = 50;

/** What the HTTP app needs from the runtime (apps/server/src/runtime.ts). */
export interface HttpRuntime {
  ctx: ServiceContext;
  config: {
    publicUrl: string;
    smtp?: SmtpConfig | undefined;
    notifyFrom?: string;
    webRoot?: string;
    trustedProxies?: readonly string[];
  };
  engine: { kind: string; version?: string | null };
  databaseKind: "embedded" | "external";
}

export interface HttpAppOptions {
  runtime: HttpRuntime;
  /** Folder of the built panel. @defaultValue runtime.config.webRoot */
  webRoot?: string;
  /** Overrides the /healthz report (the runtime's own provider, when it has one). */
  health?: () => Promise<HealthReport>;
  /** @defaultValue DEFAULT_LOGIN_RATE_LIMITS */
  loginRateLimits?: Partial<LoginRateLimits>;
  /** Passwords tried on mailbox owners' links, per address and per link. @defaultValue DEFAULT_LOGIN_RATE_LIMITS */
  ownerLinkRateLimits?: Partial<LoginRateLimits>;
  /**
   * Proxies (addresses or CIDR ranges) whose X-Forwarded-For and X-Forwarded-Proto are believed.
   * @defaultValue runtime.config.trustedProxies, else none
   */
  trustedProxies?: readonly string[];
}

type HttpEnv = { Bindings: Partial<HttpBindings> } & AuthenticatedEnv;

export interface HttpApp {
  app: Hono<HttpEnv>;
  /** Stops the event connection; open subscriptions end when their HTTP connections close. */
  close(): Promise<void>;
}

/**
 * The whole HTTP surface: /trpc (queries and mutations batched over HTTP, subscriptions over SSE),
 * /api/jobs/:id/log, /api/batches/template.csv, /healthz and the panel. Security headers on every
 * response; authentication on /trpc (per procedure) and all of /api.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  const { runtime } = options;
  const { ctx } = runtime;
  const hub = createEventHub(ctx.pool, { log: ctx.log });
  const healthProvider = options.health
    ? null
    : createHealthProvider({
        ctx,
        version,
        databaseKind: runtime.databaseKind,
        engine: { kind: runtime.engine.kind, version: runtime.engine.version ?? null },
        notifications: { smtp: runtime.config.smtp, from: runtime.config.notifyFrom },
      });
  // GET /healthz may reuse a probe under a second old; an authenticated caller's report is fresh.
  const health = options.health ?? (() => healthProvider!.report());
  const freshHealth = options.health ?? (() => healthProvider!.report({ fresh: true }));
  const deps: RouterDeps = {
    ctx,
    hub,
    logReader: createCoalescingLogReader(ctx),
    watches: createWatchRecorder(ctx),
    loginLimiter: new LoginRateLimiter(options.loginRateLimits),
    health: freshHealth,
    publicUrl: runtime.config.publicUrl,
    ownerLinks: {
      publicUrl: runtime.config.publicUrl,
      emailEnabled: notificationStatus({ smtp: runtime.config.smtp, from: runtime.config.notifyFrom })
        .enabled,
    },
  };
  const credentialWatch = createCredentialWatch(ctx, hub);
  /** The panel's origin as configured; the Host a browser addressed is accepted too (request-origin.ts). */
  const allowedOrigins = new Set([new URL(runtime.config.publicUrl).origin]);
  const publicHttps = runtime.config.publicUrl.startsWith("https:");
  const clients = createClientAddressResolver(options.trustedProxies ?? runtime.config.trustedProxies ?? []);
  const isSecure = (c: Context) =>
    publicHttps || clients.secure(peerAddress(c), c.req.raw.headers, new URL(c.req.url).protocol);

  const app = new Hono<HttpEnv>();
  const sseResponseHeaders = await securityHeaderValues();
  app.use("*", securityHeaders);

  // Public: whether the service is up, for load balancers: the states of the database and of the
  // workers, a count, nothing more. The report (versions, hosts' problems, pools, engine) is for
  // authenticated callers only: it tells a stranger what to attack. It answers within about a second
  // whatever the database does; 503 only when the database is unreachable (the API cannot serve).
  app.get("/healthz", async function healthz(c) {
    const [report, principal] = await Promise.all([health(), healthCaller(c.req.raw.headers)]);
    c.header("Cache-Control", "no-store");
    return c.json(principal ? report : publicHealth(report), healthHttpStatus(report));
  });

  /** Who asks, if the database says so in time; otherwise the caller gets the public answer. */
  async function healthCaller(headers: Headers): Promise<Authentication["principal"]> {
    if (!headers.has("authorization") && !headers.has("cookie")) return null;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), PROBE_DEADLINE_MS);
    });
    try {
      const auth = authenticate(ctx, headers).then((a) => a.principal);
      auth.catch(() => {});
      return await Promise.race([auth, late]);
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
  // HSTS only where it means something: a browser ignores it over plain http, and a panel reached over
  // http (a LAN address) must not be pinned to https for a host that has no certificate.
  app.use("*", async function strictTransportSecurity(c, next) {
    await next();
    if (isSecure(c)) c.header("Strict-Transport-Security", "max-age=15552000; includeSubDomains");
  });

  function logInternalError({ error, path }: { error: TRPCError; path: string | undefined }) {
    if (error.code === "INTERNAL_SERVER_ERROR") {
      const cause = error.cause ?? error;
      ctx.log.error("API procedure failed", {
        path,
        error: errorMessage(cause),
        stack: cause instanceof Error ? cause.stack : undefined,
      });
    }
  }

  /** What a procedure knows of this request, over /trpc and /api/v1 alike. */
  function requestContextFor(c: Context, auth: Authentication, resHeaders: Headers) {
    return createRequestContext(deps, {
      ip: clients.address(peerAddress(c), c.req.raw.headers),
      principal: auth.principal,
      sessionId: auth.sessionId,
      secure: isSecure(c),
      resHeaders,
    });
  }

  // "Connect with Google / Microsoft": the provider sends the owner's browser back here (public: the
  // one-time state is the proof).
  const oauth2Callback = oauth2CallbackRoutes(ctx, runtime.config.publicUrl);
  app.get("/oauth2/callback", oauth2Callback.callback);
  app.get("/oauth2/connected.js", oauth2Callback.script);

  app.all("/trpc/*", async function handleTrpc(c) {
    const auth = await authenticate(ctx, c.req.raw.headers);
    const path = c.req.path.slice("/trpc/".length);
    const paths = path.split(",");
    // Each login attempt must be its own request, counted and throttled before its password is checked.
    if (paths.length > 1 && paths.includes("auth.login")) {
      return apiError(
        c,
        400,
        "BAD_REQUEST",
        "auth.login cannot be batched with other calls: send it on its own.",
      );
    }
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      const forged = checkMutationOrigin(c.req.raw, allowedOrigins);
      if (forged)
        return apiError(
          c,
          forged.status,
          forged.status === 415 ? "UNSUPPORTED_MEDIA_TYPE" : "FORBIDDEN",
          forged.message,
        );
    }
    const request = await boundedRequest(c.req.raw, bodyLimitFor(paths, auth.principal !== null));
    if ("problem" in request) {
      const { status, message } = request.problem;
      // Unread, the rest of a huge body would still be received and thrown away: close instead.
      if (status === 413) c.header("Connection", "close");
      return apiError(c, status, status === 413 ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST", message);
    }
    const requestContext = (resHeaders: Headers) => requestContextFor(c, auth, resHeaders);
    const res = c.env?.outgoing;
    // Subscriptions bypass tRPC's Web Streams (see sse-subscriptions.ts); without a Node response
    // (app.request() in tests) they take tRPC's own path, which speaks the same protocol.
    // (A batched call is tRPC's to refuse: subscriptions cannot be batched.)
    if (c.req.method === "GET" && res && isSubscriptionPath(appRouter, path) && !c.req.query("batch")) {
      // An authenticated stream ends when its token is revoked, its session ends or the password is reset.
      const credentials = auth.principal ? credentialWatch.watch(auth, c.req.raw.headers) : null;
      void serveSseSubscription({
        router: appRouter,
        path,
        url: new URL(c.req.url),
        headers: c.req.raw.headers,
        ctx: requestContext(new Headers()),
        responseHeaders: sseResponseHeaders,
        res,
        ...(credentials ? { stop: credentials.signal } : {}),
        onError: logInternalError,
      }).finally(() => credentials?.stop());
      // Tells @hono/node-server the response was written already.
      return RESPONSE_ALREADY_SENT;
    }
    return fetchRequestHandler({
      endpoint: "/trpc",
      req: request.request,
      router: appRouter,
      maxBatchSize: MAX_BATCH_SIZE,
      createContext: ({ resHeaders }) => requestContext(resHeaders),
      onError: logInternalError,
    });
  });

  // The API's description is public, as the API's shape is (the SDK is published): client generators
  // fetch it without a token.
  let openApiDocument: string | null = null;
  app.get("/api/v1/openapi.json", function openApi(c) {
    openApiDocument ??= JSON.stringify(createOpenApiDocument());
    c.header("Content-Type", "application/json; charset=utf-8");
    c.header("Cache-Control", "no-cache");
    return c.body(openApiDocument);
  });

  app.use("/api/*", async function requireAuthentication(c, next) {
    const auth = await authenticate(ctx, c.req.raw.headers);
    if (!auth.principal) {
      return c.json(
        {
          error: {
            code: "UNAUTHORIZED",
            message: "Log in, or send a valid API token as `Authorization: Bearer <token>`.",
          },
        },
        401,
      );
    }
    c.set("auth", { ...auth, principal: auth.principal });
    await next();
  });
  const downloadLog = createLogDownloadHandler(ctx);
  const downloadReport = createBatchReportDownloadHandler(ctx);
  app.get("/api/jobs/:id/log", downloadLog);
  app.get("/api/batches/:id/report.csv", downloadReport);
  // The REST API (plain JSON over HTTP, for panels in any language): the same procedures as /trpc.
  app.get("/api/v1/jobs/:id/log", downloadLog);
  app.get("/api/v1/batches/:id/report.csv", downloadReport);
  mountRestApi(app, {
    router: appRouter,
    context: (c) => requestContextFor(c, c.get("auth"), c.res.headers),
    bodyBytes: AUTHENTICATED_BODY_BYTES,
    largeBodyBytes: CSV_BODY_BYTES,
    checkOrigin(c) {
      // A bodiless POST (`/jobs/7/cancel`) with a bearer token carries no ambient credential to forge:
      // only bodies and cookies need the JSON and origin checks.
      const headers = c.req.raw.headers;
      const bodiless = !headers.has("transfer-encoding") && Number(headers.get("content-length") ?? 0) === 0;
      if (bodiless && headers.has("authorization")) return null;
      const forged = checkMutationOrigin(c.req.raw, allowedOrigins);
      if (!forged) return null;
      return apiError(
        c,
        forged.status,
        forged.status === 415 ? "UNSUPPORTED_MEDIA_TYPE" : "FORBIDDEN",
        forged.message,
      );
    },
    onError: logInternalError,
  });
  app.get("/api/batches/template.csv", function batchTemplate(c) {
    c.header("Content-Type", "text/csv; charset=utf-8");
    c.header("Content-Disposition", 'attachment; filename="imapferry-batch-template.csv"');
    return c.body(csvTemplate());
  });
  app.all("/api/*", function apiNotFound(c) {
    return c.json(
      { error: { code: "NOT_FOUND", message: `No API route ${c.req.method} ${c.req.path}.` } },
      404,
    );
  });

  // A mailbox owner's link: public (the token is the key), outside the panel and the API.
  const ownerLink = createOwnerLinkPage(ctx, {
    limiter: new LoginRateLimiter(options.ownerLinkRateLimits),
    clientAddress: (c) => clients.address(peerAddress(c), c.req.raw.headers),
  });
  app.get("/credentials/:token", ownerLink.showOwnerLink);
  app.post("/credentials/:token", ownerLink.submitOwnerLink);

  const webRoot = options.webRoot ?? runtime.config.webRoot;
  const panel = webRoot ? createPanelHandler(webRoot) : null;
  app.all("*", function servePanelOrNotFound(c) {
    return panel ? panel(c) : c.text("Not found", 404);
  });

  app.onError(function unexpectedError(e, c) {
    ctx.log.error("HTTP request failed", { path: c.req.path, error: e.message });
    return c.json(
      { error: { code: "INTERNAL_SERVER_ERROR", message: "Something went wrong on the server." } },
      500,
    );
  });

  return {
    app,
    async close() {
      await hub.close();
      await healthProvider?.close();
    },
  };
}

function apiError(c: Context, status: ContentfulStatusCode, code: string, message: string): Response {
  return c.json({ error: { code, message } }, status);
}

/**
 * How large a body this call may have. Decided from the headers alone, before a byte of the body is
 * read: only an authenticated CSV import or preview takes a large one.
 */
function bodyLimitFor(paths: string[], authenticated: boolean): number {
  if (!authenticated) return PUBLIC_BODY_BYTES;
  if (paths.length === 1 && CSV_PROCEDURES.has(paths[0] ?? "")) return CSV_BODY_BYTES;
  return AUTHENTICATED_BODY_BYTES;
}

/**
 * The request tRPC gets: the body read under its limit and checked for nesting before tRPC's
 * JSON.parse sees it (a GET's input parameter too).
 */
async function boundedRequest(
  raw: Request,
  maxBytes: number,
): Promise<{ request: Request } | { problem: BodyProblem }> {
  if (raw.method === "GET" || raw.method === "HEAD") {
    const input = new URL(raw.url).searchParams.get("input");
    if (input !== null && jsonNestedDeeperThan(input, MAX_JSON_DEPTH)) return { problem: tooDeep("input") };
    return { request: raw };
  }
  const body = await readBoundedBody(raw, maxBytes);
  if ("problem" in body) return body;
  const headers = new Headers(raw.headers);
  headers.delete("content-length");
  headers.delete("transfer-encoding");
  return { request: new Request(raw.url, { method: raw.method, headers, body: body.text }) };
}

/** The socket peer's address; "unknown" when the app is called without a socket (app.request in tests). */
function peerAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}
