import {
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
  /** The caller's API tokens (a tenant's token: its tenant's): names, prefixes and scopes only. */
  list: protectedProcedure.query(async function listTokens({ ctx }) {
    return jsonPlain(await listApiTokens(ctx.deps.ctx, ctx.principal));
  }),

  /**
   * Creates a token with a `role` (`read`, `operate`, `admin`), optionally bound to a `tenant` and
   * expiring after `expiresInDays`. `token` is in this response only: it is stored hashed and cannot be
   * shown again. A person (session) may create any token; an admin token one no wider than itself (its
   * tenant, its expiry at the latest); other tokens none (FORBIDDEN).
   */
  create: protectedProcedure.input(createApiTokenInputSchema).mutation(async function createToken({
    ctx,
    input,
  }) {
    const created = await createApiToken(ctx.deps.ctx, ctx.principal, input);
    return { token: created.token, apiToken: jsonPlain(created.apiToken) };
  }),

  /** Revokes one of the caller's tokens; requests with it fail from now on and its open streams end. */
  revoke: protectedProcedure.input(z.object({ id: idSchema })).mutation(async function revokeToken({
    ctx,
    input,
  }) {
    return jsonPlain(await revokeApiToken(ctx.deps.ctx, ctx.principal, input.id));
  }),
});
