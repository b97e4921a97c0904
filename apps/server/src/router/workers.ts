import { assertAllowed, listWorkers } from "@imapferry/core";
import { protectedProcedure, router } from "../trpc/init.ts";
import { jsonPlain } from "../trpc/json-plain.ts";

export const workersRouter = router({
  /** Registered workers with their heartbeat, pool, capacity and load. */
  list: protectedProcedure.query(async function listWorkersProcedure({ ctx }) {
    assertAllowed(ctx.principal, "see-installation");
    return jsonPlain(await listWorkers(ctx.deps.ctx));
  }),
});
