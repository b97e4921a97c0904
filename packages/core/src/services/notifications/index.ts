export type { NotificationConfig, NotificationStatus } from "./config.ts";
export { describeSmtpServer, isSmtpConfigured, notificationStatus } from "./config.ts";
export type { JobEndOutcome } from "./job-end.ts";
export {
  DEFAULT_SEND_ATTEMPTS,
  NOTIFICATION_TASKS,
  queueBatchEndCheck,
  queueJobEndNotification,
} from "./queue.ts";
export type { BatchEmailInput, JobEmailInput, JobStatsSummary, RenderedEmail } from "./render.ts";
export { renderBatchEmail, renderJobEmail, summarizeJobStats } from "./render.ts";
export type { RecordWatchInput, SmtpConfig } from "./schemas.ts";
export { recordWatchInputSchema, smtpConfigSchema } from "./schemas.ts";
export type { NotificationSettings } from "./settings.ts";
export { readNotificationSettings } from "./settings.ts";
export type { NotificationTaskDeps } from "./tasks.ts";
export { notificationTasks } from "./tasks.ts";
export { recordWatch, WATCH_WINDOW_SECONDS } from "./watch.ts";
export type { NotificationWorker, NotificationWorkerOptions } from "./worker.ts";
export { startNotificationWorker } from "./worker.ts";
