import type { Api } from "./client.ts";

/** View types come from the router through the SDK: the panel never restates an API shape. */
type Output<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;

export type ServerItem = Output<Api["servers"]["list"]["query"]>[number];
export type JobList = Output<Api["jobs"]["list"]["query"]>;
export type JobItem = Output<Api["jobs"]["get"]["query"]>;
export type JobListInput = Parameters<Api["jobs"]["list"]["query"]>[0];
export type BatchItem = Output<Api["batches"]["list"]["query"]>["items"][number];
export type BatchPlan = NonNullable<Output<Api["batches"]["plan"]["get"]["query"]>>;
export type ImportPreview = Output<Api["batches"]["preview"]["mutate"]>;
export type ImportResult = Output<Api["batches"]["import"]["mutate"]>;
export type WorkerItem = Output<Api["workers"]["list"]["query"]>[number];
export type SettingsView = Output<Api["settings"]["get"]["query"]>;
export type ServerTestResult = Output<Api["servers"]["test"]["mutate"]>;
export type ApiTokenItem = Output<Api["tokens"]["list"]["query"]>[number];
export type AuditList = Output<Api["audit"]["list"]["query"]>;
export type AuditEventItem = AuditList["items"][number];
export type WebhookItem = Output<Api["webhooks"]["list"]["query"]>[number];
export type WebhookDeliveryPage = Output<Api["webhooks"]["deliveries"]["query"]>;
export type WebhookDeliveryItem = WebhookDeliveryPage["items"][number];
