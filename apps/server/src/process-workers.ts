import {
  type NotificationWorker,
  type PlanScheduler,
  startNotificationWorker,
  startPlanScheduler,
  startWebhookWorker,
  startWorker,
  type WebhookWorker,
  type WorkerHandle,
} from "@imapferry/core";
import type { Runtime } from "./runtime.ts";

/** The workers a process runs: migrations, and emails, webhooks and batch plans' ticks in runners of their own. */
export interface ProcessWorkers {
  migrations: WorkerHandle;
  /** Lets running migrations finish, taking nothing new; then stops the email runner. */
  drain(): Promise<void>;
  /** Stops both; with `handBack`, running migrations are handed back to be resumed elsewhere. */
  stop(options?: { handBack?: boolean }): Promise<void>;
}

/**
 * Starts the migration worker and the notification runner for `imapferry start` and `imapferry worker`.
 * Emails run apart so they never wait behind hours-long migrations for a slot.
 */
export async function startProcessWorkers(runtime: Runtime): Promise<ProcessWorkers> {
  const { config, ctx } = runtime;
  const migrations = await startWorker({
    ctx,
    engine: runtime.engine,
    ...(config.workerConcurrency ? { concurrency: config.workerConcurrency } : {}),
    ...(config.pool ? { pool: config.pool } : {}),
  });
  let notifications: NotificationWorker;
  let plans: PlanScheduler;
  let webhooks: WebhookWorker;
  try {
    notifications = await startNotificationWorker({
      ctx,
      smtp: config.smtp,
      from: config.notifyFrom,
      publicUrl: config.publicUrl,
    });
  } catch (e: unknown) {
    await migrations.stop({ handBack: true });
    throw e;
  }
  try {
    plans = await startPlanScheduler(ctx);
  } catch (e: unknown) {
    await migrations.stop({ handBack: true });
    await notifications.stop();
    throw e;
  }
  try {
    webhooks = await startWebhookWorker({
      ctx,
      ...(config.webhookRetryBaseMs !== undefined ? { retryBaseMs: config.webhookRetryBaseMs } : {}),
    });
  } catch (e: unknown) {
    await plans.stop();
    await migrations.stop({ handBack: true });
    await notifications.stop();
    throw e;
  }
  return {
    migrations,
    async drain() {
      await plans.stop();
      await migrations.drain();
      await notifications.stop();
      await webhooks.stop();
    },
    async stop(options) {
      await plans.stop();
      await migrations.stop(options);
      await notifications.stop();
      await webhooks.stop();
    },
  };
}
