import {
  createSession,
  DEFAULT_SESSION_TTL_MS,
  endSession,
  loginInputSchema,
  verifyCredentials,
} from "@imapferry/core";
import type { ApiTokenRole } from "@imapferry/db";
import { TRPCError } from "@trpc/server";
import { expiredSessionCookie, sessionCookie } from "../http/session-cookie.ts";
import { protectedProcedure, publicProcedure, router } from "../trpc/init.ts";

export interface Me {
  id: number;
  username: string;
  /** How this caller is authenticated. */
  method: "session" | "token";
  /** What the caller may do: a person is `admin`; a token has the role it was created with. */
  role: ApiTokenRole;
  /** The one tenant the caller sees; null: every tenant. */
  tenant: string | null;
}

export const authRouter = router({
  /**
   * Starts a session (a cookie); the panel's way in. Cannot be batched with other calls. Guesses are
   * throttled per address and per user name with growing delays (TOO_MANY_REQUESTS says how long);
   * an address that has not failed is never held back, so strangers cannot lock a user out.
   */
  login: publicProcedure.input(loginInputSchema).mutation(async function login({ ctx, input }): Promise<Me> {
    const { deps } = ctx;
    // Counted before the password is checked; a refused attempt checks nothing.
    const attempt = deps.loginLimiter.beginAttempt(ctx.ip, input.username);
    const user = await verifyCredentials(deps.ctx, input).catch((e: unknown) => {
      attempt.failed();
      throw e;
    });
    if (!user) {
      attempt.failed();
      throw new TRPCError({ code: "UNAUTHORIZED", message: "Wrong user name or password." });
    }
    attempt.succeeded();
    const session = await createSession(deps.ctx, user.id);
    ctx.resHeaders.append(
      "Set-Cookie",
      sessionCookie(session.sessionId, { maxAgeSeconds: DEFAULT_SESSION_TTL_MS / 1000, secure: ctx.secure }),
    );
    deps.ctx.log.info("user logged in", { username: user.username });
    return { id: user.id, username: user.username, method: "session", role: "admin", tenant: null };
  }),

  /** Ends the current session and clears its cookie. */
  logout: protectedProcedure.mutation(async function logout({ ctx }): Promise<{ ok: true }> {
    if (ctx.sessionId) await endSession(ctx.deps.ctx, ctx.sessionId);
    ctx.resHeaders.append("Set-Cookie", expiredSessionCookie(ctx.secure));
    return { ok: true };
  }),

  me: protectedProcedure.query(function me({ ctx }): Me {
    const { userId, username, method, role, tenant } = ctx.principal;
    return { id: userId, username, method, role, tenant };
  }),
});
