import { type Kysely, sql } from "kysely";

// Frozen in time: migrations use Kysely<any>, never the live Database type.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // 'awaiting_credentials': the job was created without its source password; the mailbox's owner is
  // asked for it through a single-use link (credential_requests). It has no queue entry until then.
  //
  // credential_requests: one row per link issued. Only the sha256 of the link's token is kept: a copy
  // of the database does not open anyone's link. A job has at most one pending link; issuing a new one
  // marks the previous one 'replaced'. Expiry is expires_at (a pending row past it is expired whether or
  // not the expiry task has run yet).
  await sql`
    alter table jobs drop constraint jobs_status_check;
    alter table jobs add constraint jobs_status_check
      check (status in ('queued', 'running', 'waiting', 'done', 'incomplete', 'failed', 'cancelled',
                        'interrupted', 'awaiting_credentials'));

    create table credential_requests (
      id serial primary key,
      job_id integer not null references jobs (id) on delete cascade,
      token_hash text not null unique,
      owner_email text,
      status text not null default 'pending'
        check (status in ('pending', 'used', 'expired', 'replaced', 'cancelled')),
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      emailed_at timestamptz,
      email_error text,
      reminders_sent integer not null default 0,
      last_reminder_at timestamptz,
      failed_attempts integer not null default 0,
      used_at timestamptz,
      ended_at timestamptz
    );
    create index credential_requests_job_idx on credential_requests (job_id, id desc);
    create unique index credential_requests_one_pending on credential_requests (job_id)
      where status = 'pending';
  `.execute(db);
}
