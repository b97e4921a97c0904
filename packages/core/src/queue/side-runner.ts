import { Logger as GraphileLogger, run, type TaskList } from "graphile-worker";
import type { ServiceContext } from "../context.ts";

/** A started side runner; only stopping it is public, so every caller stops it the same way. */
export interface SideRunner {
  /**
   * Lets running tasks finish, then releases the LISTEN connection. Calling it again returns the same
   * promise: a process's shutdown and a test's cleanup may both stop it, and graphile-worker's own
   * stop rejects a second call ("Runner is already stopped").
   */
  stop(): Promise<void>;
}

/**
 * A graphile-worker runner for short side tasks (emails, batch plans' ticks), apart from the
 * migration runner so they never wait behind hours-long migrations for a slot; its warnings and
 * errors go to the service log under `source`.
 */
export async function startSideRunner(
  ctx: ServiceContext,
  options: { source: string; taskList: TaskList; concurrency: number; pollIntervalMs: number },
): Promise<SideRunner> {
  const logger = new GraphileLogger(function sideRunnerLogScope() {
    return function sideRunnerLog(level, message) {
      if (level === "error") ctx.log.error(message, { source: options.source });
      else if (level === "warning") ctx.log.warn(message, { source: options.source });
    };
  });
  const runner = await run({
    pgPool: ctx.pool,
    taskList: options.taskList,
    concurrency: options.concurrency,
    pollInterval: options.pollIntervalMs,
    noHandleSignals: true,
    logger,
  });
  let stopping: Promise<void> | null = null;
  return {
    stop() {
      stopping ??= runner.stop();
      return stopping;
    },
  };
}
