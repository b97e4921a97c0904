import {
  createWebhookEndpoint,
  createWebhookInputSchema,
  deleteWebhookEndpoint,
  idSchema,
  listWebhookDeliveries,
  listWebhookDeliveriesInputSchema,
  listWebhookEndpoints,
  pingWebhook,
  redeliverWebhook,
  redeliverWebhookInputSchema,
  updateWebhookEndpoint,
  updateWebhookInputSchema,
} from "@imapferry/core";
import { z } from "zod";
import { protectedProcedure, router } from "../trpc/init.ts";
import { jsonPlain } from "../trpc/json-plain.ts";

/** Signed webhooks: endpoints, their delivery logs, redelivery. Admins only; a tenant's token: its tenant's. */
export const webhooksRouter = router({
  /** Every endpoint the caller manages, without secrets, with how its latest delivery went. */
  list: protectedProcedure.query(async function listWebhooks({ ctx }) {
    return jsonPlain(await listWebhookEndpoints(ctx.deps.ctx, ctx.principal));
  }),

  /**
   * Creates an endpoint for some event types (`job.ended`, `job.waiting`, `batch.ended`,
   * `plan.cutover`), optionally for one tenant. `secret` (generated unless given) is in this response
   * only: it is stored encrypted and signs every delivery (`Imapferry-Signature`).
   */
  create: protectedProcedure.input(createWebhookInputSchema).mutation(async function createWebhook({
    ctx,
    input,
  }) {
    const created = await createWebhookEndpoint(ctx.deps.ctx, ctx.principal, input);
    // Outside jsonPlain, which drops secret-looking keys: this is the one-time reveal.
    return { secret: created.secret, webhook: jsonPlain(created.webhook) };
  }),

  /** Changes the fields sent (URL, event types, tenant filter, description, enabled). */
  update: protectedProcedure.input(updateWebhookInputSchema).mutation(async function updateWebhook({
    ctx,
    input,
  }) {
    return jsonPlain(await updateWebhookEndpoint(ctx.deps.ctx, ctx.principal, input));
  }),

  /** Deletes an endpoint and its delivery log. */
  delete: protectedProcedure.input(z.object({ id: idSchema })).mutation(async function deleteWebhook({
    ctx,
    input,
  }) {
    return deleteWebhookEndpoint(ctx.deps.ctx, ctx.principal, input.id);
  }),

  /** The endpoint's delivery log, newest first: each delivery with its attempts, codes, times, errors. */
  deliveries: protectedProcedure.input(listWebhookDeliveriesInputSchema).query(async function listDeliveries({
    ctx,
    input,
  }) {
    return jsonPlain(await listWebhookDeliveries(ctx.deps.ctx, ctx.principal, input));
  }),

  /** A new attempt of an existing delivery, now: the same event id, body and delivery id. */
  redeliver: protectedProcedure.input(redeliverWebhookInputSchema).mutation(async function redeliver({
    ctx,
    input,
  }) {
    return redeliverWebhook(ctx.deps.ctx, ctx.principal, input);
  }),

  /** Sends a `ping` event to the endpoint, to try the receiver and its signature check. */
  ping: protectedProcedure.input(z.object({ id: idSchema })).mutation(async function pingEndpoint({
    ctx,
    input,
  }) {
    return pingWebhook(ctx.deps.ctx, ctx.principal, input.id);
  }),
});
