import { type Kysely, sql } from "kysely";

// Frozen in time: migrations use Kysely<any>, never the live Database type.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table servers (
      id integer generated always as identity primary key,
      name text not null unique check (length(name) between 1 and 200),
      host text not null check (length(host) between 1 and 253),
      port integer not null check (port between 1 and 65535),
      security text not null check (security in ('tls', 'starttls', 'none')),
      accept_self_signed boolean not null default false,
      source_host_limit integer check (source_host_limit is null or source_host_limit >= 1),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );

    create table batches (
      id integer generated always as identity primary key,
      tag text not null unique check (length(tag) between 1 and 200),
      tenant text,
      pool text,
      dry_run boolean not null default true,
      defaults jsonb not null default '{}',
      created_at timestamptz not null default now(),
      summary_queued_at timestamptz
    );

    create table jobs (
      id integer generated always as identity primary key,
      name text not null default '',
      batch_id integer references batches (id) on delete set null,
      tenant text,
      pool text,
      source_server_id integer not null references servers (id),
      source_email text not null,
      source_secret text not null,
      dest_server_id integer not null references servers (id),
      dest_email text not null,
      dest_secret text not null,
      dry_run boolean not null default true,
      options jsonb not null default '{}',
      status text not null default 'queued'
        check (status in ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
      priority integer not null default 0,
      progress jsonb,
      stats jsonb,
      exit_code integer,
      error_category text,
      error_message text,
      worker_id text,
      lease_expires_at timestamptz,
      attempt integer not null default 1,
      rerun_of integer references jobs (id) on delete set null,
      log_bytes bigint not null default 0,
      cancel_requested_at timestamptz,
      created_at timestamptz not null default now(),
      started_at timestamptz,
      finished_at timestamptz,
      deleted_at timestamptz,
      last_watched_at timestamptz
    );
    create index jobs_created_idx on jobs (created_at desc, id desc) where deleted_at is null;
    create index jobs_status_idx on jobs (status, created_at desc, id desc) where deleted_at is null;
    create index jobs_batch_idx on jobs (batch_id, created_at desc, id desc) where deleted_at is null;
    create index jobs_tenant_idx on jobs (tenant, created_at desc) where tenant is not null;
    create index jobs_running_worker_idx on jobs (worker_id) where status = 'running';
    create index jobs_rerun_of_idx on jobs (rerun_of) where rerun_of is not null;

    create table job_logs (
      id bigint generated always as identity primary key,
      job_id integer not null references jobs (id) on delete cascade,
      byte_offset bigint not null check (byte_offset >= 0),
      chunk text not null,
      created_at timestamptz not null default now(),
      unique (job_id, byte_offset)
    );

    create table workers (
      id text primary key,
      hostname text not null,
      pid integer not null,
      pool text,
      capacity integer not null check (capacity >= 1),
      running integer not null default 0,
      load jsonb not null default '[]',
      memory_rss bigint not null default 0,
      started_at timestamptz not null default now(),
      heartbeat_at timestamptz not null default now(),
      draining boolean not null default false,
      stopped_at timestamptz
    );

    create table users (
      id integer generated always as identity primary key,
      username text not null unique check (length(username) between 1 and 100),
      password_hash text not null,
      created_at timestamptz not null default now()
    );

    create table sessions (
      id_hash text primary key,
      user_id integer not null references users (id) on delete cascade,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null
    );
    create index sessions_user_idx on sessions (user_id);

    create table api_tokens (
      id integer generated always as identity primary key,
      user_id integer not null references users (id) on delete cascade,
      name text not null,
      token_hash text not null unique,
      prefix text not null,
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    );

    create table settings (
      key text primary key,
      value jsonb not null,
      updated_at timestamptz not null default now()
    );

    create table notifications (
      id integer generated always as identity primary key,
      dedupe_key text not null unique,
      kind text not null check (kind in ('job', 'batch')),
      job_id integer references jobs (id) on delete set null,
      batch_id integer references batches (id) on delete set null,
      recipients text[] not null default '{}',
      subject text,
      status text not null default 'pending' check (status in ('pending', 'sent', 'suppressed', 'failed')),
      attempts integer not null default 0,
      last_error text,
      created_at timestamptz not null default now(),
      sent_at timestamptz
    );
  `.execute(db);
}
