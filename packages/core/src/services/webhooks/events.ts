import type { Database } from "@imapferry/db";
import { type Kysely, sql } from "kysely";
import { queueWebhookBatchCheck, queueWebhookDelivery } from "./queue.ts";
import type { WebhookEventType } from "./schemas.ts";

type Db = Kysely<Database>;

/** Something that happened, as a webhook tells it. */
export interface NewWebhookEvent {
  type: WebhookEventType | "ping";
  /** Unique per happening ("job.ended:42"): recording it again (a retried task) adds nothing. */
  dedupeKey: string;
  /** The tenant it belongs to; endpoints filtered to another tenant never hear of it. */
  tenant: string | null;
  data: Record<string, unknown>;
  /** Only this endpoint (a test ping), whatever it subscribes to. */
  onlyEndpointId?: number;
}

/**
 * Records an event and one delivery per enabled endpoint that wants it, and queues those deliveries,
 * all in the caller's transaction: call it with the transaction that changes what the event is about,
 * so the delivery exists exactly when the change does. Nothing is stored when no endpoint wants it.
 * Returns the new delivery ids (empty for a duplicate or an event nobody wants).
 */
export async function recordWebhookEvent(db: Db, event: NewWebhookEvent): Promise<number[]> {
  let endpoints = db.selectFrom("webhook_endpoints").select("id");
  if (event.onlyEndpointId !== undefined) endpoints = endpoints.where("id", "=", event.onlyEndpointId);
  else {
    endpoints = endpoints
      .where("enabled", "=", true)
      .where(sql<boolean>`${event.type} = any(event_types)`)
      .where((eb) =>
        event.tenant === null
          ? eb("tenant", "is", null)
          : eb.or([eb("tenant", "is", null), eb("tenant", "=", event.tenant)]),
      );
  }
  const wanted = await endpoints.orderBy("id").execute();
  if (wanted.length === 0) return [];
  const inserted = await db
    .insertInto("webhook_events")
    .values({
      type: event.type,
      dedupe_key: event.dedupeKey,
      tenant: event.tenant,
      data: JSON.stringify(event.data),
    })
    .onConflict((oc) => oc.column("dedupe_key").doNothing())
    .returning("id")
    .executeTakeFirst();
  if (!inserted) return [];
  const deliveries = await db
    .insertInto("webhook_deliveries")
    .values(wanted.map((endpoint) => ({ endpoint_id: endpoint.id, event_id: inserted.id })))
    .onConflict((oc) => oc.columns(["event_id", "endpoint_id"]).doNothing())
    .returning("id")
    .execute();
  for (const delivery of deliveries) await queueWebhookDelivery(db, delivery.id);
  return deliveries.map((d) => d.id);
}

/** The event types some enabled endpoint listens for: lets hot paths skip building an event's data. */
async function wantedEventTypes(db: Db): Promise<Set<string>> {
  const rows = await db
    .selectFrom("webhook_endpoints")
    .select(sql<string>`unnest(event_types)`.as("type"))
    .distinct()
    .where("enabled", "=", true)
    .execute();
  return new Set(rows.map((row) => row.type));
}

async function anyEndpointFor(db: Db, type: WebhookEventType): Promise<boolean> {
  return (await wantedEventTypes(db)).has(type);
}

const JOB_END_STATUSES = new Set(["done", "incomplete", "failed", "cancelled"]);

/** The columns of a job that events carry: what a panel needs to update its own record, no credentials. */
const JOB_COLUMNS = [
  "id",
  "name",
  "status",
  "batch_id",
  "tenant",
  "source_email",
  "dest_email",
  "dry_run",
  "attempt",
  "error_category",
  "error_message",
  "started_at",
  "finished_at",
  "resume_at",
  "rerun_of",
] as const;

type JobColumns = Awaited<ReturnType<typeof jobsByIds>>[number];

function jobsByIds(db: Db, ids: readonly number[]) {
  return db.selectFrom("jobs").select(JOB_COLUMNS).where("id", "in", ids).orderBy("id").execute();
}

function jobPayload(job: JobColumns): Record<string, unknown> {
  return {
    id: job.id,
    name: job.name,
    status: job.status,
    batchId: job.batch_id,
    tenant: job.tenant,
    sourceEmail: job.source_email,
    destEmail: job.dest_email,
    dryRun: job.dry_run,
    attempt: job.attempt,
    errorCategory: job.error_category,
    errorMessage: job.error_message,
    startedAt: job.started_at?.toISOString() ?? null,
    finishedAt: job.finished_at?.toISOString() ?? null,
    rerunOf: job.rerun_of,
  };
}

/** Jobs read per query: a bulk cancel of a whole batch can end many thousands at once. */
const JOBS_PER_READ = 1000;

/**
 * The events of jobs that have just ended (done, incomplete, failed, cancelled) or started waiting to
 * resume: `job.ended` / `job.waiting`, and for a job of a batch the check whether the batch has ended.
 * Call it in the transaction that wrote the new status. Costs one query when no endpoint listens.
 */
export async function recordJobStatusEvents(db: Db, jobIds: readonly number[]): Promise<void> {
  if (jobIds.length === 0) return;
  const types = await wantedEventTypes(db);
  const wants = {
    ended: types.has("job.ended"),
    waiting: types.has("job.waiting"),
    batch: types.has("batch.ended"),
  };
  if (!wants.ended && !wants.waiting && !wants.batch) return;
  const batches = new Set<number>();
  for (let from = 0; from < jobIds.length; from += JOBS_PER_READ) {
    for (const job of await jobsByIds(db, jobIds.slice(from, from + JOBS_PER_READ))) {
      if (JOB_END_STATUSES.has(job.status)) {
        if (job.batch_id !== null) batches.add(job.batch_id);
        if (!wants.ended) continue;
        await recordWebhookEvent(db, {
          type: "job.ended",
          dedupeKey: `job.ended:${job.id}`,
          tenant: job.tenant,
          data: { job: jobPayload(job) },
        });
      } else if (job.status === "waiting" && wants.waiting) {
        await recordWebhookEvent(db, {
          type: "job.waiting",
          // The attempt that will run next: each wait of a job is its own event.
          dedupeKey: `job.waiting:${job.id}:${job.attempt}`,
          tenant: job.tenant,
          data: { job: { ...jobPayload(job), resumeAt: job.resume_at?.toISOString() ?? null } },
        });
      }
    }
  }
  if (wants.batch) for (const batchId of batches) await queueWebhookBatchCheck(db, batchId);
}

/** A job awaiting its owner's password has yet to run: its batch has not ended. */
const UNFINISHED = ["queued", "running", "waiting", "awaiting_credentials"] as const;

/**
 * `batch.ended` when the batch has no queued, running or waiting job left. Run by a task queued after
 * each job end, in its own transaction under the batch's row lock: each job end committed before its
 * check runs, so the last one to end always sees every other one ended, and concurrent checks agree.
 * The dedupe key names the batch's newest job, so a batch that ends again after a rerun tells again.
 */
export async function recordBatchEndedIfOver(db: Db, batchId: number): Promise<"recorded" | "not over"> {
  return db.transaction().execute(async function checkBatchEnded(trx) {
    const batch = await trx
      .selectFrom("batches")
      .select(["id", "tag", "tenant"])
      .where("id", "=", batchId)
      .forUpdate()
      .executeTakeFirst();
    if (!batch) return "not over";
    const rows = await trx
      .selectFrom("jobs")
      .select(["status", (eb) => eb.fn.countAll<string>().as("n"), (eb) => eb.fn.max("id").as("newest")])
      .where("batch_id", "=", batchId)
      .where("deleted_at", "is", null)
      .where("superseded_by", "is", null)
      .groupBy("status")
      .execute();
    const counts: Record<string, number> = {};
    let newest = 0;
    for (const row of rows) {
      counts[row.status] = Number(row.n);
      newest = Math.max(newest, Number(row.newest));
    }
    if (newest === 0 || UNFINISHED.some((status) => (counts[status] ?? 0) > 0)) return "not over";
    await recordWebhookEvent(trx, {
      type: "batch.ended",
      dedupeKey: `batch.ended:${batchId}:${newest}`,
      tenant: batch.tenant,
      data: { batch: { id: batch.id, tag: batch.tag, tenant: batch.tenant, counts } },
    });
    return "recorded";
  });
}

/** `plan.cutover`: a batch plan's cutover has ended; call it in the transaction that ends the plan. */
export async function recordPlanCutoverEvent(
  db: Db,
  plan: {
    batch_id: number;
    cutover_started_at: Date | null;
    ended_at: Date | null;
    complete_count: number | null;
    attention_count: number | null;
  },
): Promise<void> {
  if (!(await anyEndpointFor(db, "plan.cutover"))) return;
  const batch = await db
    .selectFrom("batches")
    .select(["id", "tag", "tenant"])
    .where("id", "=", plan.batch_id)
    .executeTakeFirst();
  if (!batch) return;
  await recordWebhookEvent(db, {
    type: "plan.cutover",
    dedupeKey: `plan.cutover:${plan.batch_id}:${plan.cutover_started_at?.getTime() ?? 0}`,
    tenant: batch.tenant,
    data: {
      batch: { id: batch.id, tag: batch.tag, tenant: batch.tenant },
      plan: {
        cutoverStartedAt: plan.cutover_started_at?.toISOString() ?? null,
        endedAt: plan.ended_at?.toISOString() ?? null,
        completeCount: plan.complete_count ?? 0,
        attentionCount: plan.attention_count ?? 0,
      },
    },
  });
}
