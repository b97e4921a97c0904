import type { Principal } from "@imapferry/core";
import type { RouterDeps } from "./router-deps.ts";

/**
 * What a procedure knows about the request. Kept to plain data on purpose: this type is part of the
 * published AppRouter type, so it must not mention the database, the pool or anything server-side.
 */
export interface ApiRequestContext {
  /** The client's address, for login rate limits. */
  ip: string;
  /** Who is calling; null when the request carried no valid session or token. */
  principal: Principal | null;
  /** The session cookie this request came with, so logout can end it. */
  sessionId: string | null;
  /** Whether the client reached us over https (directly or through a proxy), so cookies get `Secure`. */
  secure: boolean;
  /** Headers added to the response (Set-Cookie). */
  resHeaders: Headers;
}

const depsOfRequest = new WeakMap<ApiRequestContext, RouterDeps>();

export function createRequestContext(deps: RouterDeps, fields: ApiRequestContext): ApiRequestContext {
  const context = { ...fields };
  depsOfRequest.set(context, deps);
  return context;
}

export function depsOf(context: ApiRequestContext): RouterDeps {
  const deps = depsOfRequest.get(context);
  if (!deps) throw new Error("A request context was used without createRequestContext(); this is a bug.");
  return deps;
}
