import { assertAllowed, listAuditEvents, listAuditEventsInputSchema } from "@imapferry/core";
import { protectedProcedure, router } from "../trpc/init.ts";
import { jsonPlain } from "../trpc/json-plain.ts";

export const auditRouter = router({
  /**
   * Every change (and refused attempt), newest first: who (user, token), what (procedure, target,
   * input without secrets), when, from where and how it ended. Filters by action ("jobs.cancel", or
   * "jobs." for all of a group), user, token, tenant, outcome and time. Admins only.
   */
  list: protectedProcedure
    .input(listAuditEventsInputSchema.optional())
    .query(async function listAuditProcedure({ ctx, input }) {
      assertAllowed(ctx.principal, "read-audit");
      return jsonPlain(await listAuditEvents(ctx.deps.ctx, input ?? {}));
    }),
});
