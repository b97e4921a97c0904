export type { DeliveryOptions } from "./delivery.ts";
export type { WebhookDelivery, WebhookEndpoint } from "./endpoints.ts";
export {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  pingWebhook,
  redeliverWebhook,
  updateWebhookEndpoint,
} from "./endpoints.ts";
export type { NewWebhookEvent } from "./events.ts";
export { recordWebhookEvent } from "./events.ts";
export { WEBHOOK_TASKS } from "./queue.ts";
export {
  DEFAULT_WEBHOOK_RETRY_BASE_MS,
  WEBHOOK_RETRY_WINDOW_MS,
  webhookRetryDelayMs,
} from "./retry-schedule.ts";
export type {
  CreateWebhookInput,
  ListWebhookDeliveriesInput,
  RedeliverWebhookInput,
  UpdateWebhookInput,
  WebhookEventType,
} from "./schemas.ts";
export {
  createWebhookInputSchema,
  listWebhookDeliveriesInputSchema,
  redeliverWebhookInputSchema,
  updateWebhookInputSchema,
  WEBHOOK_EVENT_TYPES,
} from "./schemas.ts";
export { generateWebhookSecret, verifyWebhookSignature, webhookSignatureHeader } from "./signature.ts";
export type { WebhookWorker, WebhookWorkerOptions } from "./worker.ts";
export { startWebhookWorker } from "./worker.ts";
