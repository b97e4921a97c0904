import type { JobHelpers, TaskList } from "graphile-worker";
import { z } from "zod";
import type { ServiceContext } from "../../context.ts";
import { attemptWebhookDelivery, type DeliveryOptions } from "./delivery.ts";
import { recordBatchEndedIfOver } from "./events.ts";
import { WEBHOOK_TASKS } from "./queue.ts";

export interface WebhookTaskDeps extends DeliveryOptions {
  ctx: ServiceContext;
}

const deliverPayload = z.object({
  deliveryId: z.number().int().positive(),
  redelivery: z.boolean().optional(),
});
const batchCheckPayload = z.object({ batchId: z.number().int().positive() });

/**
 * `deliver_webhook` makes one attempt and schedules the next itself (its own backoff with jitter over
 * 24 h, rather than graphile-worker's fixed one): so a failed attempt is a completed task, and the
 * delivery log, not the queue, says what happened. `webhook_batch_check` records batch.ended once.
 */
export function webhookTasks(deps: WebhookTaskDeps): TaskList {
  async function deliverWebhook(payload: unknown, helpers: JobHelpers): Promise<void> {
    const parsed = deliverPayload.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(`${WEBHOOK_TASKS.deliver}: payload must be { deliveryId: number }`);
      return;
    }
    await attemptWebhookDelivery(deps.ctx, parsed.data.deliveryId, {
      ...deps,
      redelivery: parsed.data.redelivery ?? false,
    });
  }

  async function checkBatchEnded(payload: unknown, helpers: JobHelpers): Promise<void> {
    const parsed = batchCheckPayload.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(`${WEBHOOK_TASKS.batchCheck}: payload must be { batchId: number }`);
      return;
    }
    await recordBatchEndedIfOver(deps.ctx.db, parsed.data.batchId);
  }

  return { [WEBHOOK_TASKS.deliver]: deliverWebhook, [WEBHOOK_TASKS.batchCheck]: checkBatchEnded };
}
