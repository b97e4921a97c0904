import {
  createSession,
  DEFAULT_SESSION_TTL_MS,
  endSession,
  loginInputSchema,
  verifyCredentials,
} from "@imapferry/core";
import { TRPCError } from "@trpc/server";
import { expiredSessionCookie, sessionCookie } from "../http/session-cookie.ts";
import { protectedProcedure, publicProcedure, router } from "../trpc/init.ts";

export interface Me {
  id: number;
  username: string;
  /** How this caller is authenticated. */
  method: "session" | "token";
}

export const authRouter = router({
  /** Starts a session (a cookie); the panel's way in. Rate-limited per IP and per user name. */
  login: publicProcedure.input(loginInputSchema).mutation(async function login({ ctx, input }): Promise<Me> {
    const { deps } = ctx;
    deps.loginLimiter.checkAttempt(ctx.ip, input.username);
    const user = await verifyCredentials(deps.ctx, input);
    if (!user) {
      deps.loginLimiter.recordFailure(input.username);
      throw new TRPCError({ code: "UNAUTHORIZED", message: "Wrong user name or password." });
    }
    deps.loginLimiter.recordSuccess(input.username);
    const session = await createSession(deps.ctx, user.id);
    ctx.resHeaders.append(
      "Set-Cookie",
      sessionCookie(session.sessionId, { maxAgeSeconds: DEFAULT_SESSION_TTL_MS / 1000, secure: ctx.secure }),
    );
    deps.ctx.log.info("user logged in", { username: user.username });
    return { id: user.id, username: user.username, method: "session" };
  }),

  /** Ends the current session and clears its cookie. */
  logout: protectedProcedure.mutation(async function logout({ ctx }): Promise<{ ok: true }> {
    if (ctx.sessionId) await endSession(ctx.deps.ctx, ctx.sessionId);
    ctx.resHeaders.append("Set-Cookie", expiredSessionCookie(ctx.secure));
    return { ok: true };
  }),

  me: protectedProcedure.query(function me({ ctx }): Me {
    return { id: ctx.principal.userId, username: ctx.principal.username, method: ctx.principal.method };
  }),
});
