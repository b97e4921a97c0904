import type { AppRouter } from "@imapferry/server";
import type { TRPCClient } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";

/** Every procedure's input type, e.g. `RouterInputs["jobs"]["create"]`. */
export type RouterInputs = inferRouterInputs<AppRouter>;
/** Every procedure's output type as it arrives (dates are ISO strings), e.g. `RouterOutputs["jobs"]["get"]`. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export type Job = RouterOutputs["jobs"]["get"];
export type JobPage = RouterOutputs["jobs"]["list"];
export type Batch = RouterOutputs["batches"]["get"];
/**
 * `batches.plan.get({ batchId })` (null without a plan): delta passes every `intervalSeconds` until the
 * cutover; `phase` is active, paused, cutting-over or ended, `outcome` the cutover's counts.
 */
export type BatchPlan = NonNullable<RouterOutputs["batches"]["plan"]["get"]>;
/** `jobs.report({ id })`: the last run's statistics and the check after it, per folder. */
export type JobReport = RouterOutputs["jobs"]["report"];
/** A job's accounts' use of their servers' daily byte budgets in the current window. */
export type JobBudgetUsage = RouterOutputs["jobs"]["budgetUsage"];
/** `batches.report({ id })`: one row per mailbox (its latest run); also as CSV at GET /api/batches/:id/report.csv. */
export type BatchReport = RouterOutputs["batches"]["report"];
export type BatchReportRow = BatchReport["rows"][number];
/** What a job's status can be: `done` only when the check found every source message on the destination. */
export type JobStatus = Job["status"];
/**
 * A job's latest link asking its mailbox's owner for the source password (`jobs.create` with
 * `askOwner`, `jobs.sendOwnerLink`): status, owner email, emailed, reminders, expiry, use. `url` only
 * in the answer that issued it with `returnLink`.
 */
export type CredentialRequest = NonNullable<Job["credentialRequest"]>;
export type ImportResult = RouterOutputs["batches"]["import"];
export type ImportPreview = RouterOutputs["batches"]["preview"];
export type Server = RouterOutputs["servers"]["create"];
/**
 * `oauth2.connect.start`: the connection's id and the provider URL to send the mailbox owner to
 * ("Connect with Google / Microsoft"); give the id to jobs.create as sourceConnectionId / destConnectionId.
 */
export type StartedConnection = RouterOutputs["oauth2"]["connect"]["start"];
/** `oauth2.connect.get`: pending, connected (with the account), failed (with why), used or expired. */
export type OAuth2Connection = RouterOutputs["oauth2"]["connect"]["get"];
export type Settings = RouterOutputs["settings"]["get"];
export type ApiToken = RouterOutputs["tokens"]["list"][number];
/**
 * `read` looks only; `operate` also creates, cancels and reruns jobs and batches; `admin` also changes
 * servers, settings and tokens.
 */
export type ApiTokenRole = ApiToken["role"];
/** `tokens.create`: a name, a role, optionally a tenant the token is bound to and days until it expires. */
export type NewApiToken = RouterInputs["tokens"]["create"];
/** `auth.me`: who the client is, its role and the tenant it is bound to (null: every tenant). */
export type Me = RouterOutputs["auth"]["me"];
export type Health = RouterOutputs["health"];
/** `audit.list`: one change (or refused attempt) with who, what, when, from where and its outcome. */
export type AuditEvent = RouterOutputs["audit"]["list"]["items"][number];
/** What `watchJobs` yields: `{ type: "job", jobId, batchId, status, progress }` or `{ type: "resync" }`. */
export type JobEvent = Exclude<
  RouterOutputs["jobs"]["events"] extends AsyncIterable<infer E> ? E : never,
  { type: "heartbeat" }
>;
/** `webhooks.list`: an endpoint (URL, event types, tenant filter, enabled), never its secret. */
export type WebhookEndpoint = RouterOutputs["webhooks"]["list"][number];
/** `webhooks.create`: the URL, event types, optional tenant filter and secret (generated when absent). */
export type NewWebhookEndpoint = RouterInputs["webhooks"]["create"];
/** `job.ended`, `job.waiting`, `batch.ended` or `plan.cutover`. */
export type WebhookEventType = WebhookEndpoint["eventTypes"][number];
/** `webhooks.deliveries`: one event's delivery to an endpoint, with each attempt's code, time and error. */
export type WebhookDelivery = RouterOutputs["webhooks"]["deliveries"]["items"][number];
export type ImportOptions = Omit<RouterInputs["batches"]["import"], "csv">;
/** Engine options as a job, a batch or a CSV row sets them (see the README's option list). */
export type EngineOptionsInput = NonNullable<RouterInputs["jobs"]["create"]["options"]>;

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The typed tRPC client of the imapferry API. */
export type ApiClient = TRPCClient<AppRouter>;

/** What the helpers share: the typed client and an authenticated fetch for plain HTTP routes. */
export interface ClientCore {
  api: ApiClient;
  baseUrl: string;
  fetch: FetchLike;
}
