import {
  createApiTokenInputSchema,
  createJobInputSchema,
  createWebhookInputSchema,
  idSchema,
  importCsvInputSchema,
  listAuditEventsInputSchema,
  listBatchesInputSchema,
  listJobsInputSchema,
  listWebhookDeliveriesInputSchema,
  rerunJobInputSchema,
  sendOwnerLinkFieldsSchema,
  updateWebhookInputSchema,
} from "@imapferry/core";
import { z } from "zod";
import { testServerInputSchema } from "../../router/server-test.ts";

/**
 * One REST operation under /api/v1: an HTTP method and path in front of one tRPC procedure. The
 * procedure runs as it does over /trpc (authentication, roles, tenant scope, validation, errors); the
 * schemas here are the procedure's own, so the OpenAPI document and the validation cannot disagree.
 */
export interface RestRoute {
  method: "get" | "post";
  /** OpenAPI path template under /api/v1, e.g. "/jobs/{id}". */
  path: `/${string}`;
  /** The tRPC procedure, e.g. "jobs.get". */
  procedure: string;
  operationId: string;
  summary: string;
  tag: "servers" | "jobs" | "batches" | "tokens" | "auth" | "audit" | "webhooks";
  /** Path parameters (ids, decimal in the URL). */
  params?: z.ZodObject;
  /** GET only: the query string. */
  query?: z.ZodObject;
  /** POST only: the JSON body. */
  body?: z.ZodObject;
  /** @defaultValue 200 */
  status?: 200 | 201;
  /** A CSV import: the body may be as large as /trpc allows a CSV import. */
  largeBody?: boolean;
}

const byId = z.object({ id: idSchema.meta({ description: "The id, a positive integer." }) });

export const REST_ROUTES: readonly RestRoute[] = [
  {
    method: "get",
    path: "/me",
    procedure: "auth.me",
    operationId: "getMe",
    summary: "Who the token belongs to, its role and the tenant it is bound to (null: every tenant).",
    tag: "auth",
  },
  {
    method: "get",
    path: "/servers",
    procedure: "servers.list",
    operationId: "listServers",
    summary: "Every IMAP server (a tenant's token does not see admin logins).",
    tag: "servers",
  },
  {
    method: "post",
    path: "/servers/{id}/test",
    procedure: "servers.test",
    operationId: "testServer",
    summary: "Connects to a saved server and, with an account, logs in. The password is used once.",
    tag: "servers",
    params: byId,
    body: testServerInputSchema.omit({ id: true }),
  },
  {
    method: "get",
    path: "/jobs",
    procedure: "jobs.list",
    operationId: "listJobs",
    summary: "Jobs, newest first, paged by `cursor` (the previous page's `nextCursor`).",
    tag: "jobs",
    query: listJobsInputSchema,
  },
  {
    method: "post",
    path: "/jobs",
    procedure: "jobs.create",
    operationId: "createJob",
    summary: "Queues one migration. Passwords are encrypted at once and never returned.",
    tag: "jobs",
    body: createJobInputSchema,
    status: 201,
  },
  {
    method: "get",
    path: "/jobs/{id}",
    procedure: "jobs.get",
    operationId: "getJob",
    summary: "One job: status, progress, statistics, error.",
    tag: "jobs",
    params: byId,
  },
  {
    method: "post",
    path: "/jobs/{id}/cancel",
    procedure: "jobs.cancel",
    operationId: "cancelJob",
    summary: "Cancels a queued, waiting or running job.",
    tag: "jobs",
    params: byId,
  },
  {
    method: "post",
    path: "/jobs/{id}/rerun",
    procedure: "jobs.rerun",
    operationId: "rerunJob",
    summary: "A new job copying this one (credentials included, still encrypted).",
    tag: "jobs",
    params: byId,
    body: rerunJobInputSchema.omit({ id: true }),
    status: 201,
  },
  {
    method: "post",
    path: "/jobs/{id}/owner-link",
    procedure: "jobs.sendOwnerLink",
    operationId: "sendOwnerLink",
    summary:
      "A new single-use link asking the mailbox's owner for the source password of a job awaiting it; emailed and/or returned once in credentialRequest.url.",
    tag: "jobs",
    params: byId,
    body: sendOwnerLinkFieldsSchema.omit({ id: true }),
  },
  {
    method: "get",
    path: "/batches",
    procedure: "batches.list",
    operationId: "listBatches",
    summary: "Batches, newest first, with the number of jobs per status.",
    tag: "batches",
    query: listBatchesInputSchema,
  },
  {
    method: "post",
    path: "/batches",
    procedure: "batches.import",
    operationId: "importBatch",
    summary: "Imports every row of a CSV file as a job of one new batch (all or nothing, or `skipInvalid`).",
    tag: "batches",
    body: importCsvInputSchema,
    status: 201,
    largeBody: true,
  },
  {
    method: "get",
    path: "/batches/{id}",
    procedure: "batches.get",
    operationId: "getBatch",
    summary: "One batch with the number of its jobs per status.",
    tag: "batches",
    params: byId,
  },
  {
    method: "get",
    path: "/batches/{id}/report",
    procedure: "batches.report",
    operationId: "getBatchReport",
    summary: "One row per mailbox (its latest run): counts on each side, copied, missing and why, errors.",
    tag: "batches",
    params: byId,
  },
  {
    method: "get",
    path: "/tokens",
    procedure: "tokens.list",
    operationId: "listTokens",
    summary: "The caller's API tokens (a tenant's token: its tenant's): names, prefixes and scopes.",
    tag: "tokens",
  },
  {
    method: "post",
    path: "/tokens",
    procedure: "tokens.create",
    operationId: "createToken",
    summary: "Creates a token no wider than the caller's; `token` is in this response only.",
    tag: "tokens",
    body: createApiTokenInputSchema,
    status: 201,
  },
  {
    method: "post",
    path: "/tokens/{id}/revoke",
    procedure: "tokens.revoke",
    operationId: "revokeToken",
    summary: "Revokes a token: its requests fail from now on and its open streams end.",
    tag: "tokens",
    params: byId,
  },
  {
    method: "get",
    path: "/audit",
    procedure: "audit.list",
    operationId: "listAuditEvents",
    summary: "Every change, newest first: who, what, when, from where, and how it ended (admins only).",
    tag: "audit",
    query: listAuditEventsInputSchema,
  },
  {
    method: "get",
    path: "/webhooks",
    procedure: "webhooks.list",
    operationId: "listWebhooks",
    summary: "Webhook endpoints (admins; a tenant's admin token: its tenant's), without secrets.",
    tag: "webhooks",
  },
  {
    method: "post",
    path: "/webhooks",
    procedure: "webhooks.create",
    operationId: "createWebhook",
    summary: "Creates a webhook endpoint; `secret` (generated unless given) is in this response only.",
    tag: "webhooks",
    body: createWebhookInputSchema,
    status: 201,
  },
  {
    method: "post",
    path: "/webhooks/{id}",
    procedure: "webhooks.update",
    operationId: "updateWebhook",
    summary: "Changes the fields sent: URL, event types, tenant filter, description, enabled.",
    tag: "webhooks",
    params: byId,
    body: updateWebhookInputSchema.omit({ id: true }),
  },
  {
    method: "post",
    path: "/webhooks/{id}/delete",
    procedure: "webhooks.delete",
    operationId: "deleteWebhook",
    summary: "Deletes a webhook endpoint and its delivery log.",
    tag: "webhooks",
    params: byId,
  },
  {
    method: "get",
    path: "/webhooks/{id}/deliveries",
    procedure: "webhooks.deliveries",
    operationId: "listWebhookDeliveries",
    summary: "The endpoint's delivery log, newest first: attempts, response codes and times, errors.",
    tag: "webhooks",
    params: byId,
    query: listWebhookDeliveriesInputSchema.omit({ id: true }),
  },
  {
    method: "post",
    path: "/webhooks/{id}/ping",
    procedure: "webhooks.ping",
    operationId: "pingWebhook",
    summary: "Sends a `ping` event to the endpoint.",
    tag: "webhooks",
    params: byId,
  },
  {
    method: "post",
    path: "/webhook-deliveries/{deliveryId}/redeliver",
    procedure: "webhooks.redeliver",
    operationId: "redeliverWebhook",
    summary: "A new attempt of an existing delivery, now (same event, body and delivery id).",
    tag: "webhooks",
    params: z.object({ deliveryId: idSchema.meta({ description: "The delivery's id." }) }),
  },
];
