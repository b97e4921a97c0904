export type { NotificationConfig, NotificationStatus } from "./config.ts";
export { notificationStatus } from "./config.ts";
export type { JobEndOutcome } from "./job-end.ts";
export {
  NOTIFICATION_TASKS,
  queueBatchEndCheck,
  queueCutoverNotification,
  queueJobEndNotification,
} from "./queue.ts";
export type { RecordWatchInput, SmtpConfig } from "./schemas.ts";
export { recordWatchInputSchema, smtpConfigSchema } from "./schemas.ts";
export type { NotificationSettings } from "./settings.ts";
export type { NotificationTaskDeps } from "./tasks.ts";
export { notificationTasks } from "./tasks.ts";
export { recordWatch, WATCH_WINDOW_SECONDS } from "./watch.ts";
export type { NotificationWorker, NotificationWorkerOptions } from "./worker.ts";
export { startNotificationWorker } from "./worker.ts";
