import type { WebhookItem } from "../../api/types.ts";

/** What each event type means, in the words of the list and the form. */
export const EVENT_LABELS: Record<WebhookItem["eventTypes"][number], string> = {
  "job.ended": "Job ended (done, incomplete, failed, cancelled)",
  "job.waiting": "Job waiting to resume",
  "batch.ended": "Batch ended",
  "plan.cutover": "Plan cut over",
};
