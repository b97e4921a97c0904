import type { Database } from "@imapferry/db";
import { type Kysely, sql } from "kysely";
import { NOTIFICATION_PRIORITY } from "../notifications/queue.ts";

/** graphile-worker task identifiers of the webhook system. */
export const WEBHOOK_TASKS = {
  /** Payload { deliveryId, redelivery? }: one attempt of one delivery; schedules its own retry. */
  deliver: "deliver_webhook",
  /** Payload { batchId }: records batch.ended if the batch has no job left to run. */
  batchCheck: "webhook_batch_check",
} as const;

/**
 * Queues an attempt of a delivery. The job key (one per delivery) means a delivery has at most one
 * attempt waiting: a redelivery replaces a retry scheduled for later instead of adding a second one.
 * The key is removed with the job when it completes, so it never piles up.
 */
export async function queueWebhookDelivery(
  db: Kysely<Database>,
  deliveryId: number,
  options: { runAt?: Date; redelivery?: boolean } = {},
): Promise<void> {
  await sql`select graphile_worker.add_job(
      ${WEBHOOK_TASKS.deliver},
      json_build_object('deliveryId', ${deliveryId}::int, 'redelivery', ${options.redelivery ?? false}::boolean),
      run_at => ${options.runAt ?? null}::timestamptz,
      max_attempts => 3,
      job_key => ${`webhook-delivery:${deliveryId}`}::text,
      job_key_mode => 'replace',
      priority => ${NOTIFICATION_PRIORITY}::int
    )`.execute(db);
}

/** Queues the check whether a batch has ended (called in the transaction that ends one of its jobs). */
export async function queueWebhookBatchCheck(db: Kysely<Database>, batchId: number): Promise<void> {
  await sql`select graphile_worker.add_job(
      ${WEBHOOK_TASKS.batchCheck},
      json_build_object('batchId', ${batchId}::int),
      priority => ${NOTIFICATION_PRIORITY}::int
    )`.execute(db);
}
