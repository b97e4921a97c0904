import { type Kysely, sql } from "kysely";

// Frozen in time: migrations use Kysely<any>, never the live Database type.
// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type.
export async function up(db: Kysely<any>): Promise<void> {
  // A server may hold admin (master user / proxy auth) credentials: the engine then logs in as the
  // admin on behalf of each mailbox login, and a job on that server needs no password of its own.
  //   admin_mode 'sasl-authzid'    SASL PLAIN with the mailbox login as authorization identity
  //                                (Dovecot master users, Cyrus, imapsync --authuser)
  //   admin_mode 'login-separator' LOGIN "<mailbox><separator><admin>" (Dovecot's login*master form)
  // admin_secret is vault ciphertext, like the jobs' secrets. The four columns are set together.
  // A job's secrets become optional: null means "log in with the server's admin credentials".
  await sql`
    alter table servers
      add column admin_mode text check (admin_mode in ('sasl-authzid', 'login-separator')),
      add column admin_login text check (length(admin_login) between 1 and 320),
      add column admin_secret text,
      add column admin_separator text check (length(admin_separator) between 1 and 8),
      add constraint servers_admin_complete check (
        (admin_mode is null and admin_login is null and admin_secret is null and admin_separator is null)
        or (admin_mode is not null and admin_login is not null and admin_secret is not null
            and admin_separator is not null));
    alter table jobs alter column source_secret drop not null;
    alter table jobs alter column dest_secret drop not null;
  `.execute(db);
}
