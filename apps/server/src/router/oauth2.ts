import {
  connectionIdInputSchema,
  getConnection,
  startConnection,
  startConnectionInputSchema,
} from "@imapferry/core";
import { oauth2CallbackUrl } from "../http/oauth2-callback.ts";
import { protectedProcedure, router } from "../trpc/init.ts";
import { jsonPlain } from "../trpc/json-plain.ts";

/** "Connect with Google / Microsoft": a mailbox owner's sign-in becomes a job side's credential. */
export const oauth2Router = router({
  connect: router({
    /**
     * Starts a sign-in with the server's OAuth client (authorization code flow with PKCE) and returns
     * the URL to open; the provider sends the browser back to /oauth2/callback. Give the connection's
     * id to jobs.create as sourceConnectionId / destConnectionId once it is connected.
     */
    start: protectedProcedure
      .input(startConnectionInputSchema)
      .mutation(async function startConnectionProcedure({ ctx, input }) {
        const { userId, tokenId, tenant } = ctx.principal;
        return jsonPlain(
          await startConnection(
            ctx.deps.ctx,
            { userId, tokenId, tenant },
            input,
            oauth2CallbackUrl(ctx.deps.publicUrl),
          ),
        );
      }),
    /** Whether the owner has signed in yet (pending, connected with the account, failed with why, used, expired). */
    get: protectedProcedure.input(connectionIdInputSchema).query(async function getConnectionProcedure({
      ctx,
      input,
    }) {
      return jsonPlain(await getConnection(ctx.deps.ctx, ctx.principal.tenant, input));
    }),
  }),
});
