import { Logger as GraphileLogger, type Runner, run, type TaskList } from "graphile-worker";
import type { ServiceContext } from "../context.ts";

/**
 * A graphile-worker runner for short side tasks (emails, batch plans' ticks), apart from the
 * migration runner so they never wait behind hours-long migrations for a slot; its warnings and
 * errors go to the service log under `source`.
 */
export function startSideRunner(
  ctx: ServiceContext,
  options: { source: string; taskList: TaskList; concurrency: number; pollIntervalMs: number },
): Promise<Runner> {
  const logger = new GraphileLogger(function sideRunnerLogScope() {
    return function sideRunnerLog(level, message) {
      if (level === "error") ctx.log.error(message, { source: options.source });
      else if (level === "warning") ctx.log.warn(message, { source: options.source });
    };
  });
  return run({
    pgPool: ctx.pool,
    taskList: options.taskList,
    concurrency: options.concurrency,
    pollInterval: options.pollIntervalMs,
    noHandleSignals: true,
    logger,
  });
}
