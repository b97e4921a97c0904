import { type Kysely, sql } from "kysely";

// Frozen in time: migrations use Kysely<any>, never the live Database type.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // Who changed what, when and from where. The caller's name and token prefix are copied, not only
  // referenced: the record must outlive a deleted user or a revoked token.
  await sql`
    create table audit_events (
      id bigint generated always as identity primary key,
      at timestamptz not null default now(),
      user_id integer references users (id) on delete set null,
      username text,
      method text not null constraint audit_events_method_known check (method in ('session', 'token', 'anonymous')),
      token_id integer,
      token_prefix text,
      caller_tenant text,
      ip text,
      action text not null,
      target_type text,
      target_id integer,
      tenant text,
      outcome text not null,
      details jsonb not null default '{}'::jsonb
    )`.execute(db);
  await sql`create index audit_events_at_idx on audit_events (id desc)`.execute(db);
  await sql`create index audit_events_action_idx on audit_events (action, id desc)`.execute(db);
  await sql`create index audit_events_user_idx on audit_events (user_id, id desc)`.execute(db);
  // Append-only in the database itself, not only by convention: nobody with the application's role
  // rewrites history by mistake. (A user's deletion still nulls user_id: the copied name stays.)
  await sql`
    create function audit_events_append_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' and new.user_id is null and old.user_id is not null
         and (to_jsonb(new) - 'user_id') = (to_jsonb(old) - 'user_id') then
        return new;
      end if;
      raise exception 'audit_events is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
    end $$`.execute(db);
  await sql`
    create trigger audit_events_append_only before update or delete on audit_events
    for each row execute function audit_events_append_only()`.execute(db);
}
