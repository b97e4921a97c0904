import { type Kysely, sql } from "kysely";

// Frozen in time: migrations use Kysely<any>, never the live Database type.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // Where signed webhooks go. The secret is vault ciphertext (like every credential), never plain.
  await sql`
    create table webhook_endpoints (
      id integer generated always as identity primary key,
      url text not null,
      description text not null default '',
      secret text not null,
      event_types text[] not null,
      tenant text,
      enabled boolean not null default true,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index webhook_endpoints_tenant_idx on webhook_endpoints (tenant)`.execute(db);
  // One row per thing that happened, recorded only when some endpoint wanted it. The unique key
  // ("job.ended:42") makes recording the same happening twice a no-op.
  await sql`
    create table webhook_events (
      id integer generated always as identity primary key,
      type text not null,
      dedupe_key text not null constraint webhook_events_dedupe_key_unique unique,
      tenant text,
      data jsonb not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  // Exactly one delivery per event per endpoint, whatever retries or redeliveries happen.
  await sql`
    create table webhook_deliveries (
      id integer generated always as identity primary key,
      endpoint_id integer not null references webhook_endpoints (id) on delete cascade,
      event_id integer not null references webhook_events (id) on delete cascade,
      status text not null default 'pending'
        constraint webhook_deliveries_status_known check (status in ('pending', 'delivered', 'failed')),
      attempts integer not null default 0,
      last_status_code integer,
      last_response_ms integer,
      last_error text,
      next_attempt_at timestamptz,
      created_at timestamptz not null default now(),
      delivered_at timestamptz,
      constraint webhook_deliveries_once_per_endpoint unique (event_id, endpoint_id)
    )`.execute(db);
  await sql`create index webhook_deliveries_endpoint_idx on webhook_deliveries (endpoint_id, id desc)`.execute(
    db,
  );
  // The delivery log: every attempt, automatic or a redelivery someone asked for.
  await sql`
    create table webhook_attempts (
      id integer generated always as identity primary key,
      delivery_id integer not null references webhook_deliveries (id) on delete cascade,
      number integer not null,
      redelivery boolean not null default false,
      started_at timestamptz not null default now(),
      ok boolean not null,
      status_code integer,
      response_ms integer not null,
      error text
    )`.execute(db);
  await sql`create index webhook_attempts_delivery_idx on webhook_attempts (delivery_id, id)`.execute(db);
}
