import { startSideRunner } from "../../queue/side-runner.ts";
import { credentialLinkTasks } from "../credential-requests/link-tasks.ts";
import { type NotificationTaskDeps, notificationTasks } from "./tasks.ts";

export interface NotificationWorkerOptions extends NotificationTaskDeps {
  /** Notification tasks run at once by this process. @defaultValue 1 */
  concurrency?: number;
  /** How often retries scheduled in the future are looked for, in ms. @defaultValue 2000 */
  pollInterval?: number;
}

export interface NotificationWorker {
  /** Lets a running task finish, then releases the LISTEN connection. */
  stop(): Promise<void>;
}

/**
 * Runs the notification tasks in their own graphile-worker runner, next to the migration worker
 * rather than inside it. Sharing the migration runner's slots would do harm both ways: with every
 * slot busy on hours-long migrations, emails would wait behind the whole queue (graphile-worker takes
 * jobs in run_at order), and a send waiting on a slow SMTP server would hold a slot a migration could
 * use. graphile-worker only fetches jobs for the tasks a runner knows, so the two never compete.
 *
 * Start it in every process that runs a worker, even without SMTP: the job system queues
 * notify_job_end regardless, and these no-op tasks drain it.
 */
export async function startNotificationWorker(
  options: NotificationWorkerOptions,
): Promise<NotificationWorker> {
  return await startSideRunner(options.ctx, {
    source: "notifications",
    // Credential links' emails and expiries share the runner: same SMTP, same reasons to run apart.
    taskList: { ...notificationTasks(options), ...credentialLinkTasks(options) },
    concurrency: options.concurrency ?? 1,
    pollIntervalMs: options.pollInterval ?? 2000,
  });
}
