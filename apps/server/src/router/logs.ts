import { assertJobsInScope, idSchema } from "@imapferry/core";
import { z } from "zod";
import { withoutHostDetailLines } from "../live/host-detail-filter.ts";
import { tailJobLog } from "../live/log-tail.ts";
import { afterScopeCheck } from "../live/tenant-streams.ts";
import { protectedProcedure, router } from "../trpc/init.ts";

export const logsRouter = router({
  /**
   * A job's log from `fromOffset` (default 0), live until the job ends. Each event is
   * `{ id: "<offset after this text>", data: { offset, text } }`; on reconnect the client sends the
   * last id back as `lastEventId` and the stream resumes at exactly that byte.
   */
  tail: protectedProcedure
    .input(
      z.object({
        jobId: idSchema,
        fromOffset: z.number().int().min(0).optional(),
        /** Set by the client on reconnect: the id of the last event it received. */
        lastEventId: z
          .string()
          .regex(/^\d{1,15}$/, "lastEventId is a byte offset.")
          .nullish(),
      }),
    )
    .subscription(function tailLog({ ctx, input, signal }) {
      const fromOffset = input.lastEventId != null ? Number(input.lastEventId) : (input.fromOffset ?? 0);
      // Returned, not delegated with yield*: one generator layer less on every event of every follower.
      const { principal } = ctx;
      const fullTail = tailJobLog(ctx.deps, { jobId: input.jobId, fromOffset, signal });
      // Only an admin reads how imapferry's machine looks (host, RAM, PIDs, paths) in an engine's log.
      const tail = principal.role === "admin" ? fullTail : withoutHostDetailLines(fullTail);
      if (principal.tenant === null) return tail;
      // A tenant's token follows only its tenant's logs (one generator layer more, for those only).
      return afterScopeCheck(() => assertJobsInScope(ctx.deps.ctx, principal, [input.jobId]), tail);
    }),
});
