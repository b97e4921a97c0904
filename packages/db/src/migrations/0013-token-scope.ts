import { type Kysely, sql } from "kysely";

// Frozen in time: migrations use Kysely<any>, never the live Database type.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // A token's role and tenant. Tokens made before could do everything but create tokens, across every
  // tenant: they become `admin` with no tenant, so no integration breaks on upgrade.
  await sql`
    alter table api_tokens
      add column role text not null default 'admin'
        constraint api_tokens_role_known check (role in ('read', 'operate', 'admin')),
      add column tenant text`.execute(db);
  // A tenant's token lists and revokes its tenant's tokens.
  await sql`create index api_tokens_user_tenant_idx on api_tokens (user_id, tenant)`.execute(db);
}
