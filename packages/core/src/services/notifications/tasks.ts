import type { JobHelpers, TaskList } from "graphile-worker";
import type { Transporter } from "nodemailer";
import { z } from "zod";
import type { ServiceContext } from "../../context.ts";
import { isSmtpConfigured } from "./config.ts";
import { handleBatchEndCheck, handleJobEnd, handlePlanCutover } from "./job-end.ts";
import { DEFAULT_SEND_ATTEMPTS, NOTIFICATION_TASKS } from "./queue.ts";
import { type SmtpConfig, smtpConfigSchema } from "./schemas.ts";
import { createMailTransport, sendNotification, smtpSecrets } from "./send.ts";

export interface NotificationTaskDeps {
  ctx: ServiceContext;
  /** SMTP server; undefined or null = notifications off (the tasks then only drain their queue). */
  smtp: SmtpConfig | null | undefined;
  /** NOTIFY_FROM; notifications are off without it. */
  from: string | null | undefined;
  /** IMAPFERRY_PUBLIC_URL: the panel's address, for links in emails (a trailing slash is ignored). */
  publicUrl: string;
  /** Attempts per email before it is given up as 'failed'. @defaultValue 25 (about four days of retries) */
  maxSendAttempts?: number;
}

const jobEndPayload = z.object({ jobId: z.number().int().positive() });
const batchCheckPayload = z.object({ batchId: z.number().int().positive() });
const sendPayload = z.object({ notificationId: z.number().int().positive() });

/**
 * The graphile-worker tasks of the notification system, to merge into the worker's task list:
 * `notify_job_end` {jobId} (queued by the job system when a job ends done or failed),
 * `notify_batch_check` {batchId} (queued when a batch job is cancelled or deleted) and
 * `send_notification` {notificationId} (queued by the former; throws while SMTP is down so
 * graphile-worker retries it with exponential backoff).
 *
 * All tasks are registered even without SMTP, as no-ops: the job system queues notify_job_end
 * regardless, and a task nobody handles would sit in the queue forever.
 */
export function notificationTasks(deps: NotificationTaskDeps): TaskList {
  const publicUrl = deps.publicUrl.replace(/\/+$/, "");
  const maxSendAttempts = deps.maxSendAttempts ?? DEFAULT_SEND_ATTEMPTS;
  const smtp = isSmtpConfigured(deps.smtp) ? smtpConfigSchema.safeParse(deps.smtp) : null;
  const enabled = smtp?.success === true && Boolean(deps.from);
  const extraSecrets = smtp?.success ? smtpSecrets(smtp.data) : [];
  let transport: Transporter | null = null;

  async function notifyJobEnd(payload: unknown, helpers: JobHelpers): Promise<void> {
    if (!enabled) return;
    const parsed = jobEndPayload.safeParse(payload);
    if (!parsed.success) {
      // Retrying a malformed payload cannot help; say so once and drop it.
      helpers.logger.error(`${NOTIFICATION_TASKS.jobEnd}: payload must be { jobId: number }`);
      return;
    }
    const outcomes = await handleJobEnd(
      { ctx: deps.ctx, publicUrl, extraSecrets, maxSendAttempts },
      parsed.data.jobId,
    );
    deps.ctx.log.info("job end notifications", { jobId: parsed.data.jobId, outcomes });
  }

  async function notifyBatchCheck(payload: unknown, helpers: JobHelpers): Promise<void> {
    if (!enabled) return;
    const parsed = batchCheckPayload.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(`${NOTIFICATION_TASKS.batchCheck}: payload must be { batchId: number }`);
      return;
    }
    const outcome = await handleBatchEndCheck(
      { ctx: deps.ctx, publicUrl, extraSecrets, maxSendAttempts },
      parsed.data.batchId,
    );
    deps.ctx.log.info("batch end check", { batchId: parsed.data.batchId, outcome });
  }

  async function notifyPlanCutover(payload: unknown, helpers: JobHelpers): Promise<void> {
    if (!enabled) return;
    const parsed = batchCheckPayload.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(`${NOTIFICATION_TASKS.cutover}: payload must be { batchId: number }`);
      return;
    }
    const outcome = await handlePlanCutover(
      { ctx: deps.ctx, publicUrl, extraSecrets, maxSendAttempts },
      parsed.data.batchId,
    );
    deps.ctx.log.info("plan cutover notification", { batchId: parsed.data.batchId, outcome });
  }

  async function sendNotificationTask(payload: unknown, helpers: JobHelpers): Promise<void> {
    const parsed = sendPayload.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(`${NOTIFICATION_TASKS.send}: payload must be { notificationId: number }`);
      return;
    }
    if (!enabled || !smtp?.success || !deps.from) {
      // SMTP was configured when this was queued and is not any more: leave the row pending, so it
      // shows as not sent, and do not retry against nothing.
      deps.ctx.log.warn("notification left unsent: SMTP is not configured", {
        notificationId: parsed.data.notificationId,
      });
      return;
    }
    transport ??= createMailTransport(smtp.data);
    await sendNotification(
      { ctx: deps.ctx, publicUrl, extraSecrets, smtp: smtp.data, from: deps.from, transport },
      parsed.data.notificationId,
      { attempt: helpers.job.attempts, maxAttempts: helpers.job.max_attempts },
    );
  }

  return {
    [NOTIFICATION_TASKS.jobEnd]: notifyJobEnd,
    [NOTIFICATION_TASKS.batchCheck]: notifyBatchCheck,
    [NOTIFICATION_TASKS.cutover]: notifyPlanCutover,
    [NOTIFICATION_TASKS.send]: sendNotificationTask,
  };
}
