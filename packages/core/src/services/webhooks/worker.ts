import { startSideRunner } from "../../queue/side-runner.ts";
import { type WebhookTaskDeps, webhookTasks } from "./tasks.ts";

export interface WebhookWorkerOptions extends WebhookTaskDeps {
  /** Deliveries made at once by this process (a slow receiver holds one). @defaultValue 4 */
  concurrency?: number;
  /** How often retries scheduled in the future are looked for, in ms. @defaultValue 2000 */
  pollInterval?: number;
}

export interface WebhookWorker {
  /** Lets running attempts finish, then releases the LISTEN connection. */
  stop(): Promise<void>;
}

/**
 * Runs webhook deliveries in their own graphile-worker runner, like emails: a receiver that takes
 * its 10 s to answer must never hold a migration's slot, nor wait behind hours-long migrations.
 */
export async function startWebhookWorker(options: WebhookWorkerOptions): Promise<WebhookWorker> {
  return await startSideRunner(options.ctx, {
    source: "webhooks",
    taskList: webhookTasks(options),
    concurrency: options.concurrency ?? 4,
    pollIntervalMs: options.pollInterval ?? 2000,
  });
}
