import { type Kysely, sql } from "kysely";

// Frozen in time: migrations use Kysely<any>, never the live Database type.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // Two more admin modes, where the worker gets an OAuth2 access token per mailbox and logs in with
  // XOAUTH2 as the mailbox:
  //   'google-service-account' admin_login = the service account's client_email, admin_secret = its
  //                            JSON key (vault ciphertext)
  //   'microsoft-app'          admin_login = the app's client id, admin_secret = {tenantId, clientId,
  //                            clientSecret} as JSON (vault ciphertext)
  // admin_token_url overrides the provider's public token endpoint (null: the provider's own).
  // A job side may hold a delegated OAuth2 grant (the mailbox's refresh token and the client it was
  // issued to, as JSON, vault ciphertext) instead of a password: source_oauth2 / dest_oauth2.
  await sql`
    alter table servers drop constraint servers_admin_mode_check;
    alter table servers drop constraint servers_admin_complete;
    alter table servers
      add column admin_token_url text check (admin_token_url ~ '^https?://' and length(admin_token_url) <= 2048),
      add constraint servers_admin_mode_check check (admin_mode in
        ('sasl-authzid', 'login-separator', 'google-service-account', 'microsoft-app')),
      add constraint servers_admin_complete check (
        (admin_mode is null and admin_login is null and admin_secret is null and admin_separator is null
          and admin_token_url is null)
        or (admin_mode in ('sasl-authzid', 'login-separator') and admin_login is not null
            and admin_secret is not null and admin_separator is not null and admin_token_url is null)
        or (admin_mode in ('google-service-account', 'microsoft-app') and admin_login is not null
            and admin_secret is not null and admin_separator is null));
    alter table jobs
      add column source_oauth2 text,
      add column dest_oauth2 text,
      add constraint jobs_source_one_credential check (source_secret is null or source_oauth2 is null),
      add constraint jobs_dest_one_credential check (dest_secret is null or dest_oauth2 is null);
  `.execute(db);
}
