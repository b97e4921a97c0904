import {
  type NotificationWorker,
  startNotificationWorker,
  startWorker,
  type WorkerHandle,
} from "@imapferry/core";
import type { Runtime } from "./runtime.ts";

/** The workers a process runs: migrations, and emails in a runner of their own. */
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
  return {
    migrations,
    async drain() {
      await migrations.drain();
      await notifications.stop();
    },
    async stop(options) {
      await migrations.stop(options);
      await notifications.stop();
    },
  };
}
