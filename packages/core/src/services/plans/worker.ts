import type { ServiceContext } from "../../context.ts";
import { startSideRunner } from "../../queue/side-runner.ts";
import { planTasks } from "./tasks.ts";

export interface PlanScheduler {
  stop(): Promise<void>;
}

/**
 * Runs batch plans' ticks in a graphile-worker runner of their own. Not in the migration runner: with
 * every slot on an hours-long migration, a pass would start hours late. A tick is one short
 * transaction, so one slot is plenty; any number of processes may run this (the tick decides under
 * the plan's row lock), and a tick queued while none runs waits in the table.
 */
export async function startPlanScheduler(
  ctx: ServiceContext,
  options: { pollIntervalMs?: number } = {},
): Promise<PlanScheduler> {
  return await startSideRunner(ctx, {
    source: "plans",
    taskList: planTasks(ctx),
    concurrency: 1,
    // Ticks are scheduled in the future (run_at), which graphile-worker finds by polling.
    pollIntervalMs: options.pollIntervalMs ?? 1000,
  });
}
