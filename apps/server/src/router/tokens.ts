import {
  assertAllowed,
  createApiToken,
  createApiTokenInputSchema,
  idSchema,
  listApiTokens,
  revokeApiToken,
} from "@imapferry/core";
import { z } from "zod";
import { protectedProcedure, router } from "../trpc/init.ts";
import { jsonPlain } from "../trpc/json-plain.ts";

export const tokensRouter = router({
  /** The caller's API tokens: names and prefixes only. */
  list: protectedProcedure.query(async function listTokens({ ctx }) {
    return jsonPlain(await listApiTokens(ctx.deps.ctx, ctx.principal.userId));
  }),

  /**
   * Creates a token, optionally expiring after `expiresInDays`. `token` is in this response only: it is
   * stored hashed and cannot be shown again. People (a session) only: an API token cannot create tokens
   * (FORBIDDEN), or revoking it would leave the ones it made working.
   */
  create: protectedProcedure.input(createApiTokenInputSchema).mutation(async function createToken({
    ctx,
    input,
  }) {
    assertAllowed(ctx.principal, "create-tokens");
    const created = await createApiToken(ctx.deps.ctx, ctx.principal.userId, input);
    return { token: created.token, apiToken: jsonPlain(created.apiToken) };
  }),

  /** Revokes one of the caller's tokens; requests with it fail from now on. */
  revoke: protectedProcedure.input(z.object({ id: idSchema })).mutation(async function revokeToken({
    ctx,
    input,
  }) {
    return jsonPlain(await revokeApiToken(ctx.deps.ctx, ctx.principal.userId, input.id));
  }),
});
