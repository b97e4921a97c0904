import { getServerForTest, idSchema, testConnection, testConnectionWithOAuth2 } from "@imapferry/core";
import { z } from "zod";
import { protectedProcedure } from "../trpc/init.ts";
import { jsonPlain } from "../trpc/json-plain.ts";

/**
 * Connects to a saved server (TLS, greeting, capabilities) and, with an account, logs in: the check an
 * operator runs before queueing a thousand migrations against it. The password is used once and
 * never stored or returned. A login without a password, on a server with admin credentials, is
 * tried as the admin logging in for it, or with an access token from the server's service account or
 * app (the way its jobs would).
 */
/** servers.test: the saved server, and optionally an account to log in with. */
export const testServerInputSchema = z.object({
  id: idSchema,
  email: z.string().trim().min(1).max(320).optional(),
  password: z.string().min(1).max(1024).optional(),
});

export const testServerProcedure = protectedProcedure
  .input(testServerInputSchema)
  .mutation(async function testServerProcedure({ ctx, input }) {
    const { adminCredentials, oauth2Grant, ...server } = await getServerForTest(ctx.deps.ctx, input.id);
    const denyHosts = ctx.deps.ctx.denyHosts;
    if (input.email && !input.password && oauth2Grant) {
      return jsonPlain(
        await testConnectionWithOAuth2(server, input.email, oauth2Grant, denyHosts ? { denyHosts } : {}),
      );
    }
    const credentials =
      input.email && input.password
        ? { user: input.email, password: input.password }
        : input.email && adminCredentials
          ? {
              user: input.email,
              password: adminCredentials.password,
              admin: {
                mode: adminCredentials.mode,
                login: adminCredentials.login,
                separator: adminCredentials.separator,
              },
            }
          : undefined;
    return jsonPlain(await testConnection(server, credentials, denyHosts ? { denyHosts } : {}));
  });
