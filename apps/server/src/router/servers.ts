import {
  assertAllowed,
  createServer,
  createServerInputSchema,
  deleteServer,
  listServers,
  serverIdInputSchema,
  updateServer,
  updateServerInputSchema,
  withoutAdminLogin,
} from "@imapferry/core";
import { protectedProcedure, protectedRawInputProcedure, router } from "../trpc/init.ts";
import { jsonPlain } from "../trpc/json-plain.ts";
import { testServerProcedure } from "./server-test.ts";

export const serversRouter = router({
  /** Every server; a tenant's token (which may use them, not change them) does not see admin logins. */
  list: protectedProcedure.query(async function listServersProcedure({ ctx }) {
    const servers = await listServers(ctx.deps.ctx);
    return jsonPlain(ctx.principal.tenant === null ? servers : servers.map(withoutAdminLogin));
  }),

  create: protectedProcedure.input(createServerInputSchema).mutation(async function createServerProcedure({
    ctx,
    input,
  }) {
    assertAllowed(ctx.principal, "change-servers");
    return jsonPlain(await createServer(ctx.deps.ctx, input));
  }),

  /**
   * Changes only the fields sent. While jobs hold passwords for the server (deleted jobs included), its
   * host, port, security and trusting self-signed certificates cannot change (CONFLICT): a stored
   * password is only ever sent to the endpoint it was entered for. Add a new server for a new address and
   * move the jobs to it with `jobs.update` and their passwords. The name and connection limit stay editable.
   */
  update: protectedRawInputProcedure
    .input(updateServerInputSchema)
    .mutation(async function updateServerProcedure({ ctx }) {
      assertAllowed(ctx.principal, "change-servers");
      // The service tells "absent" from "sent" on the raw input; the parsed one has defaults filled in.
      return jsonPlain(await updateServer(ctx.deps.ctx, ctx.rawInput));
    }),

  /** Refused (CONFLICT) while any job refers to the server. */
  delete: protectedProcedure.input(serverIdInputSchema).mutation(async function deleteServerProcedure({
    ctx,
    input,
  }) {
    assertAllowed(ctx.principal, "change-servers");
    await deleteServer(ctx.deps.ctx, input.id);
    return { id: input.id, deleted: true as const };
  }),

  test: testServerProcedure,
});
