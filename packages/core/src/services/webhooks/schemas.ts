import { z } from "zod";
import { cursorSchema, hasControlCharacter, idSchema, plainText, tenantSchema } from "../validation.ts";

/** What an endpoint can subscribe to. `ping` is not among them: it goes only where it is asked for. */
export const WEBHOOK_EVENT_TYPES = ["job.ended", "job.waiting", "batch.ended", "plan.cutover"] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const URL_SENTENCE = "Enter the full address of the receiver, e.g. https://panel.example.com/imapferry-hook.";

/**
 * The receiver's address: absolute http(s), without a user or password in it (the signature is how a
 * receiver knows the sender; credentials in a URL end up in logs and lists).
 */
export const webhookUrlSchema = plainText(
  z.string().trim().min(1, URL_SENTENCE).max(2000, "A URL has at most 2000 characters."),
)
  .refine((value) => URL.canParse(value), { message: `This is not a URL. ${URL_SENTENCE}`, abort: true })
  .refine((value) => ["http:", "https:"].includes(new URL(value).protocol), {
    message: "Only http:// and https:// URLs can receive webhooks.",
    abort: true,
  })
  .refine((value) => !new URL(value).username && !new URL(value).password, {
    message:
      "Leave the user and password out of the URL: receivers check the Imapferry-Signature header instead.",
    abort: true,
  });

export const webhookEventTypesSchema = z
  .array(
    z.enum(WEBHOOK_EVENT_TYPES, {
      error: (issue) =>
        `There is no event type ${JSON.stringify(issue.input)}. Choose from ${WEBHOOK_EVENT_TYPES.join(", ")}.`,
    }),
  )
  .min(1, "Choose at least one event type.")
  .transform((types) => [...new Set(types)]);

/** A secret given by the caller instead of a generated one: long enough to be worth signing with. */
export const webhookSecretSchema = z
  .string()
  .min(16, "A webhook secret has at least 16 characters (leave it out to get a generated one).")
  .max(200, "A webhook secret has at most 200 characters.")
  .refine((value) => !hasControlCharacter(value), "A webhook secret cannot contain control characters.");

const descriptionSchema = plainText(z.string().trim().max(200, "A description has at most 200 characters."));

export const createWebhookInputSchema = z.object({
  url: webhookUrlSchema,
  eventTypes: webhookEventTypesSchema,
  /** Only this tenant's events; absent: every tenant's (a tenant's token: always its own). */
  tenant: tenantSchema.optional(),
  /** Absent: the server generates one. Either way it is shown in the create response only. */
  secret: webhookSecretSchema.optional(),
  description: descriptionSchema.optional(),
  /** @defaultValue true */
  enabled: z.boolean().optional(),
});
export type CreateWebhookInput = z.input<typeof createWebhookInputSchema>;

export const updateWebhookInputSchema = z.object({
  id: idSchema,
  url: webhookUrlSchema.optional(),
  eventTypes: webhookEventTypesSchema.optional(),
  /** null: every tenant's events again. */
  tenant: tenantSchema.nullable().optional(),
  description: descriptionSchema.optional(),
  enabled: z.boolean().optional(),
});
export type UpdateWebhookInput = z.input<typeof updateWebhookInputSchema>;

export const listWebhookDeliveriesInputSchema = z.object({
  id: idSchema,
  /** @defaultValue 50 */
  limit: z.number().int().min(1).max(200).optional(),
  cursor: cursorSchema.optional(),
});
export type ListWebhookDeliveriesInput = z.input<typeof listWebhookDeliveriesInputSchema>;

export const redeliverWebhookInputSchema = z.object({ deliveryId: idSchema });
export type RedeliverWebhookInput = z.input<typeof redeliverWebhookInputSchema>;
