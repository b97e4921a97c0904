import type { AnyTRPCRouter, TRPCError } from "@trpc/server";
import { callTRPCProcedure, getTRPCErrorFromUnknown, getTRPCErrorShape } from "@trpc/server";
import type { Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ApiErrorData } from "../../trpc/init.ts";
import type { BodyProblem } from "../request-body.ts";
import { jsonNestedDeeperThan, MAX_JSON_DEPTH, readBoundedBody, tooDeep } from "../request-body.ts";
import { queryInput } from "./query-input.ts";
import type { RestRoute } from "./routes.ts";
import { REST_ROUTES } from "./routes.ts";

export interface RestApiOptions<TContext> {
  router: AnyTRPCRouter;
  /** The procedure context for this request (who calls, from where). */
  context(c: Context): TContext;
  /** Largest JSON body; a CSV import may send `largeBodyBytes`. */
  bodyBytes: number;
  largeBodyBytes: number;
  /** Refuses a forged browser request (a mutation from another origin), as /trpc does. */
  checkOrigin(c: Context): Response | null;
  onError(opts: { error: TRPCError; path: string }): void;
}

/** The error body of every /api route: `{ error: { code, message, problems? } }`. */
function errorBody(code: string, message: string, problems?: ApiErrorData["problems"]) {
  return { error: { code, message, ...(problems && problems.length > 0 ? { problems } : {}) } };
}

/**
 * Mounts REST_ROUTES on `app` under /api/v1. Each request becomes one call of its procedure through
 * callTRPCProcedure, so it passes the same middlewares (authentication, roles, tenant scope), input
 * validation and error mapping as a call over /trpc; only the envelope differs: the procedure's result
 * is the response body, and an error is `{ error: { code, message, problems } }` with its HTTP status.
 */
export function mountRestApi<TContext, E extends object>(app: Hono<E>, options: RestApiOptions<TContext>) {
  for (const route of REST_ROUTES) {
    const honoPath = `/api/v1${route.path.replace(/\{(\w+)\}/g, ":$1")}`;
    app.on(route.method.toUpperCase(), honoPath, async function serveRestRoute(c) {
      return serve(c, route, options);
    });
  }
}

async function serve<TContext>(c: Context, route: RestRoute, options: RestApiOptions<TContext>) {
  if (route.method !== "get") {
    const forged = options.checkOrigin(c);
    if (forged) return forged;
  }
  const input = await readInput(c, route, options);
  if ("problem" in input) {
    const { status, message } = input.problem;
    if (status === 413) c.header("Connection", "close");
    return c.json(errorBody(status === 413 ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST", message), status);
  }
  const ctx = options.context(c);
  const procedures = options.router._def.procedures as Record<
    string,
    { _def: { type: "query" | "mutation" } }
  >;
  const type = procedures[route.procedure]?._def.type ?? "query";
  try {
    const data: unknown = await callTRPCProcedure({
      router: options.router,
      path: route.procedure,
      getRawInput: async () => input.value,
      ctx,
      type,
      signal: c.req.raw.signal,
      batchIndex: 0,
    });
    return c.json(data as object, route.status ?? 200);
  } catch (cause: unknown) {
    const error = getTRPCErrorFromUnknown(cause);
    options.onError({ error, path: route.procedure });
    const shape = getTRPCErrorShape({
      config: options.router._def._config,
      error,
      type,
      path: route.procedure,
      input: input.value,
      ctx,
    }) as { message: string; data: ApiErrorData };
    return c.json(
      errorBody(shape.data.code, shape.message, shape.data.problems),
      shape.data.httpStatus as ContentfulStatusCode,
    );
  }
}

/** The procedure's input: path parameters over the query string (GET) or the JSON body (POST). */
async function readInput<TContext>(
  c: Context,
  route: RestRoute,
  options: RestApiOptions<TContext>,
): Promise<{ value: Record<string, unknown> } | { problem: BodyProblem }> {
  const fromPath: Record<string, unknown> = {};
  for (const key of Object.keys(route.params?.shape ?? {})) {
    const raw = c.req.param(key) ?? "";
    // Ids are decimal in the URL; anything else is left for the schema to refuse with its sentence.
    fromPath[key] = /^\d{1,15}$/.test(raw) ? Number(raw) : raw;
  }
  if (route.method === "get") {
    const query = route.query ? queryInput(route.query, new URL(c.req.url).searchParams) : {};
    return { value: { ...query, ...fromPath } };
  }
  const maxBytes = route.largeBody ? options.largeBodyBytes : options.bodyBytes;
  const body = await readBoundedBody(c.req.raw, maxBytes);
  if ("problem" in body) return body;
  if (body.text.trim() === "") return { value: fromPath };
  if (jsonNestedDeeperThan(body.text, MAX_JSON_DEPTH)) return { problem: tooDeep("body") };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.text);
  } catch {
    return { problem: { status: 400, message: "The body is not valid JSON." } };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { problem: { status: 400, message: "The body must be a JSON object." } };
  }
  return { value: { ...(parsed as Record<string, unknown>), ...fromPath } };
}
