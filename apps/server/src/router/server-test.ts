import { getServer, idSchema, testConnection } from "@imapferry/core";
import { z } from "zod";
import { protectedProcedure } from "../trpc/init.ts";
import { jsonPlain } from "../trpc/json-plain.ts";

/**
 * Connects to a saved server (TLS, greeting, capabilities) and, with an account, logs in: the check an
 * operator runs before queueing a thousand migrations against it. The password is used once and
 * never stored or returned.
 */
export const testServerProcedure = protectedProcedure
  .input(
    z.object({
      id: idSchema,
      email: z.string().trim().min(1).max(320).optional(),
      password: z.string().min(1).max(1024).optional(),
    }),
  )
  .mutation(async function testServerProcedure({ ctx, input }) {
    const server = await getServer(ctx.deps.ctx, input.id);
    const credentials =
      input.email && input.password ? { user: input.email, password: input.password } : undefined;
    const denyHosts = ctx.deps.ctx.denyHosts;
    return jsonPlain(await testConnection(server, credentials, denyHosts ? { denyHosts } : {}));
  });
