import type { ServiceContext } from "../../context.ts";
import { errorMessage } from "../../errors.ts";
import { leaseTiming } from "../../queue/lease-timing.ts";
import type { Settings } from "../settings/schemas.ts";
import { getSettings } from "../settings/settings.ts";
import {
  markExitedWorkers,
  markSilentWorkersStopped,
  recoverInterruptedJobs,
  requeueOrphanedJobs,
} from "./workers.ts";

/**
 * One pass of recovery: worker rows whose heartbeat stopped are marked stopped, workers of this host
 * whose process is gone are marked exited, running jobs whose lease lapsed (by more than the take
 * margin) or whose worker exited a grace period ago are interrupted and resumed per the settings, and queued
 * jobs that lost their queue entry get one. `staleEntries` also counts an entry taken long ago but
 * never claimed as lost (not at start-up, when a worker may be a moment away from its claim).
 */
export async function recoverAbandonedWork(
  ctx: Pick<ServiceContext, "db" | "log">,
  settings: Settings,
  options: { staleEntries: boolean },
): Promise<void> {
  await markSilentWorkersStopped(ctx.db, settings.leaseSeconds);
  await markExitedWorkers(ctx.db);
  await recoverInterruptedJobs(ctx, settings);
  await requeueOrphanedJobs(ctx, options.staleEntries ? { staleLockSeconds: settings.leaseSeconds } : {});
}

export interface RecoverySweeper {
  /** Stops the loop, waiting for a pass in progress. */
  stop(): Promise<void>;
}

/**
 * Recovers the jobs of dead workers on a loop of its own. Every process runs one — workers, and an API
 * started without a worker — so jobs never stay `running` on a dead worker just because no worker is
 * left to notice. Passes are safe to run from many processes at once (rows are claimed SKIP LOCKED).
 * A failing pass (the database is away) is logged once per streak and tried again next period.
 */
export function startRecoverySweeper(
  ctx: Pick<ServiceContext, "db" | "log">,
  options: {
    /** @defaultValue a heartbeat period of the lease in the settings (5 s for the default minute) */
    periodMs?: () => number;
    isStopping?: () => boolean;
  } = {},
): RecoverySweeper {
  let leaseSeconds: number | null = null;
  const periodMs =
    options.periodMs ?? (() => (leaseSeconds === null ? 1000 : leaseTiming(leaseSeconds).heartbeatMs));
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  let failing = false;

  async function sweep(): Promise<void> {
    if (stopped || options.isStopping?.()) return;
    try {
      const settings = await getSettings(ctx);
      leaseSeconds = settings.leaseSeconds;
      await recoverAbandonedWork(ctx, settings, { staleEntries: true });
      if (failing) ctx.log.info("recovery of dead workers' jobs works again");
      failing = false;
    } catch (e: unknown) {
      if (!failing) {
        ctx.log.warn("could not recover dead workers' jobs; trying again", {
          error: errorMessage(e),
        });
      }
      failing = true;
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(function recoveryTick() {
      running = sweep().then(schedule);
    }, periodMs());
  }
  schedule();

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}
