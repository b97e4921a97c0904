import type { Principal, ServiceContext } from "@imapferry/core";
import { resolveApiToken, resolveSession } from "@imapferry/core";
import { readSessionCookie } from "./session-cookie.ts";

export interface Authentication {
  principal: Principal | null;
  sessionId: string | null;
}

/** Hono's variables on /api/* routes, after the authentication middleware let the request through. */
export type AuthenticatedEnv = { Variables: { auth: Authentication & { principal: Principal } } };

/**
 * Who sent this request: a bearer API token when there is an Authorization header (and then only
 * that: a bad token is not rescued by a cookie), else the session cookie.
 */
export async function authenticate(ctx: ServiceContext, headers: Headers): Promise<Authentication> {
  const authorization = headers.get("authorization");
  if (authorization !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    const principal = match?.[1] ? await resolveApiToken(ctx, match[1]) : null;
    return { principal, sessionId: null };
  }
  const sessionId = readSessionCookie(headers.get("cookie"));
  if (!sessionId) return { principal: null, sessionId: null };
  return { principal: await resolveSession(ctx, sessionId), sessionId };
}
