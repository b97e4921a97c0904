import { WEBHOOK_EVENT_TYPES } from "@imapferry/core";
import { z } from "zod";
import type { ZodOpenApiPathsObject } from "zod-openapi";

/** What each event's `data` holds (the README's table; the events are built in core's webhooks/events.ts). */
const DATA_DESCRIPTIONS: Record<(typeof WEBHOOK_EVENT_TYPES)[number], string> = {
  "job.ended":
    "`job`: id, name, status (done, incomplete, failed, cancelled), batchId, tenant, sourceEmail, destEmail, dryRun, attempt, errorCategory, errorMessage, startedAt, finishedAt, rerunOf.",
  "job.waiting": "`job` as in job.ended (status waiting), with `resumeAt`: when it resumes by itself.",
  "batch.ended": "`batch`: id, tag, tenant and `counts` (jobs per status, latest runs only).",
  "plan.cutover":
    "`batch`: id, tag, tenant; `plan`: completeCount, attentionCount, cutoverStartedAt, endedAt.",
};

const headers = z.object({
  "imapferry-signature": z.string().meta({
    description:
      't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the endpoint\'s secret>',
  }),
  "imapferry-event": z.string().meta({ description: "The event type, as in the body." }),
  "imapferry-delivery": z
    .string()
    .meta({ description: "The delivery's id: the same on every attempt and redelivery." }),
});

/**
 * The requests imapferry sends to webhook endpoints, as OpenAPI 3.1 `webhooks`: one POST per event
 * type, so a panel's developers find the payloads next to the API they call.
 */
export function webhookDescriptions(): ZodOpenApiPathsObject {
  return Object.fromEntries(
    WEBHOOK_EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          operationId: `webhook_${type.replace(".", "_")}`,
          summary: `The ${type} event, sent to endpoints that listen for it.`,
          tags: ["webhooks"],
          requestParams: { header: headers },
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: z.object({
                  id: z.string().meta({ description: 'The event\'s id ("evt_42"); de-duplicate on it.' }),
                  type: z.literal(type),
                  createdAt: z.string().meta({ description: "When it happened (ISO 8601)." }),
                  data: z.looseObject({}).meta({ description: DATA_DESCRIPTIONS[type] }),
                }),
              },
            },
          },
          responses: {
            "2XX": { description: "Delivered. Anything else is retried with backoff for 24 hours." },
          },
        },
      },
    ]),
  );
}
