import type { JobHelpers, TaskList } from "graphile-worker";
import { z } from "zod";
import type { ServiceContext } from "../../context.ts";
import { tickPlan } from "./passes.ts";
import { PLAN_TICK_TASK } from "./schedule.ts";

const tickPayload = z.object({ batchId: z.number().int().positive() });

/** The graphile-worker task of batch plans: `plan_tick` {batchId} (see passes.ts tickPlan). */
export function planTasks(ctx: ServiceContext): TaskList {
  return {
    async [PLAN_TICK_TASK](payload: unknown, helpers: JobHelpers) {
      const parsed = tickPayload.safeParse(payload);
      if (!parsed.success) {
        helpers.logger.error(`${PLAN_TICK_TASK}: payload must be { batchId: number }`);
        return;
      }
      const plan = await tickPlan(ctx.db, parsed.data.batchId);
      if (plan) {
        ctx.log.info("batch plan tick", {
          batchId: plan.batch_id,
          phase: plan.phase,
          passes: plan.passes,
          nextPassAt: plan.next_pass_at?.toISOString() ?? null,
        });
      }
    },
  };
}
