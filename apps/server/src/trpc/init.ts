import type { FieldProblem } from "@imapferry/core";
import { assertAllowed, errorMessage, recordAuditEvent } from "@imapferry/core";
import { initTRPC, TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { HEARTBEAT_MS } from "../live/stream-timing.ts";
import type { ApiRequestContext } from "./context.ts";
import { depsOf } from "./context.ts";
import { toTRPCError } from "./errors.ts";

/** The `data` of every API error: tRPC's code and status, plus the fields at fault for bad input. */
export interface ApiErrorData {
  code: TRPCError["code"];
  httpStatus: number;
  path?: string;
  /** For BAD_REQUEST: which field is wrong and why, e.g. `{ path: ["port"], message: "Too big" }`. */
  problems: FieldProblem[];
}

const t = initTRPC.context<ApiRequestContext>().create({
  errorFormatter: function formatApiError({ shape, error }) {
    // Subscription errors reach the client without passing a middleware, so map here too (mapping an
    // already mapped error changes nothing).
    const mapped = toTRPCError(error);
    const data: ApiErrorData = {
      code: mapped.error.code,
      httpStatus: getHTTPStatusCodeFromError(mapped.error),
      ...(shape.data.path !== undefined ? { path: shape.data.path } : {}),
      problems: mapped.problems,
    };
    return { code: TRPC_ERROR_CODES_BY_KEY[mapped.error.code], message: mapped.error.message, data };
  },
  sse: {
    // tRPC's ping races every event against a timer, which made 500 log followers cost 3× the CPU.
    // Our subscriptions send their own heartbeat instead (one interval timer per stream, see
    // HEARTBEAT_MS); the client reconnects, resuming by its last event id, when it hears nothing.
    ping: { enabled: false },
    client: { reconnectAfterInactivityMs: 3 * HEARTBEAT_MS },
  },
});

export const router = t.router;

/**
 * Hands the server-side dependencies to procedures and maps whatever they throw, once, to the API's
 * error codes.
 */
const baseProcedure = t.procedure.use(async function provideDepsAndMapErrors({ ctx, next }) {
  const result = await next({ ctx: { deps: depsOf(ctx) } });
  if (!result.ok) throw toTRPCError(result.error).error;
  return result;
});

/**
 * Every change is recorded in the audit log (who, what, when, from where, and how it ended), refused
 * attempts included; reads are not. The input is stored without its secrets (core's redact.ts). A
 * failure to record is logged, not answered: the change has happened by then.
 */
const auditedProcedure = baseProcedure.use(async function auditChanges({
  ctx,
  type,
  path,
  getRawInput,
  next,
}) {
  if (type !== "mutation") return next();
  const result = await next();
  // Anonymous calls are refused before they touch anything; only login attempts are worth a record.
  if (!ctx.principal && path !== "auth.login") return result;
  try {
    const input = await getRawInput().catch(() => undefined);
    await recordAuditEvent(ctx.deps.ctx, {
      caller: ctx.principal,
      ip: ctx.ip,
      action: path,
      input,
      result: result.ok ? result.data : undefined,
      outcome: result.ok ? "ok" : toTRPCError(result.error).error.code,
    });
  } catch (e: unknown) {
    ctx.deps.ctx.log.error("could not record a change in the audit log", {
      action: path,
      error: errorMessage(e),
    });
  }
  return result;
});

/** Open to anyone: only auth.login. */
export const publicProcedure = auditedProcedure;

/**
 * Every other procedure: a valid session cookie or API token is required, and a read-only token is
 * refused every mutation here, once, so no procedure can forget it. (Logging out changes nothing a
 * token holds.)
 */
export const protectedProcedure = auditedProcedure.use(function requireAuthentication({
  ctx,
  type,
  path,
  next,
}) {
  if (!ctx.principal) {
    throw new TRPCError({
      code: "UNAUTHORIZED",
      message: "Log in, or send a valid API token as `Authorization: Bearer <token>`.",
    });
  }
  if (type === "mutation" && path !== "auth.logout") assertAllowed(ctx.principal, "make-changes");
  return next({ ctx: { principal: ctx.principal } });
});

/**
 * For partial updates: zod fills defaults into absent fields, so services that change "only the
 * fields sent" read the raw input (they validate it again themselves).
 */
export const protectedRawInputProcedure = protectedProcedure.use(async function keepRawInput({
  getRawInput,
  next,
}) {
  return next({ ctx: { rawInput: await getRawInput() } });
});
