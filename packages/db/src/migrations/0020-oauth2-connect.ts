import { type Kysely, sql } from "kysely";

// Frozen in time: migrations use Kysely<any>, never the live Database type.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // "Connect with Google / Microsoft": a server may hold the OAuth client that mailbox owners sign in
  // to (authorization code flow with PKCE). connect_client_secret is vault ciphertext (web clients
  // have one; public clients none); the URLs override the provider's public endpoints.
  //
  // oauth2_connections: one sign-in, from "Connect" to the job that takes its grant. Only a hash of
  // the state is kept (the state travels through the browser); the PKCE verifier and, once connected,
  // the grant ({ provider, refreshToken, clientId, clientSecret?, tokenUrl } as in jobs.source_oauth2)
  // are vault ciphertext. A connection is used by at most one job side (used_at).
  await sql`
    alter table servers
      add column connect_provider text check (connect_provider in ('google', 'microsoft')),
      add column connect_client_id text check (length(connect_client_id) between 1 and 512),
      add column connect_client_secret text,
      add column connect_authorize_url text
        check (connect_authorize_url ~ '^https?://' and length(connect_authorize_url) <= 2048),
      add column connect_token_url text
        check (connect_token_url ~ '^https?://' and length(connect_token_url) <= 2048),
      add constraint servers_connect_complete check (
        (connect_provider is null) = (connect_client_id is null)
        and (connect_provider is not null or (connect_client_secret is null
          and connect_authorize_url is null and connect_token_url is null)));
    create table oauth2_connections (
      id integer generated always as identity primary key,
      state_hash text not null unique,
      code_verifier text not null,
      server_id integer not null references servers(id) on delete cascade,
      user_id integer references users(id) on delete cascade,
      token_id integer references api_tokens(id) on delete cascade,
      tenant text,
      login_hint text,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      connected_at timestamptz,
      account text,
      grant_secret text,
      error text,
      used_at timestamptz,
      check ((connected_at is null) = (grant_secret is null))
    );
    create index oauth2_connections_expires on oauth2_connections (expires_at);
  `.execute(db);
}
