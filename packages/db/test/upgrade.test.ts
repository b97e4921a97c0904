import { sql } from "kysely";
import { Migrator } from "kysely/migration";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateToLatest } from "../src/index.ts";
import { migrations } from "../src/migrations/index.ts";
import { createEmptyTestDatabase, type TestDatabase } from "../src/testing/index.ts";

// An installation upgraded in place: a database filled under the previous schema keeps every job,
// log line, credential, user, token and setting through the new migrations.

const NO_ADMIN = { admin_mode: null, admin_login: null, admin_secret: null, admin_separator: null };

/** The last migration before the ones this release adds. */
const PREVIOUS = "0006-incomplete-outcome";

describe("upgrading a database filled by the previous schema", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createEmptyTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  it("keeps jobs, logs, credentials, users, tokens, settings and workers, and gives new columns their defaults", async () => {
    const migrator = new Migrator({ db: database.db, provider: { getMigrations: async () => migrations } });
    const to = await migrator.migrateTo(PREVIOUS);
    expect(to.error).toBeUndefined();
    const run = (query: ReturnType<typeof sql>) => query.execute(database.db);
    await run(sql`insert into servers (name, host, port, security) values ('old', 'imap.old.test', 993, 'tls'),
      ('new', 'imap.new.test', 143, 'starttls')`);
    await run(sql`insert into users (username, password_hash) values ('admin', 'scrypt$hash')`);
    await run(sql`insert into api_tokens (user_id, name, token_hash, prefix)
      select id, 'panel', 'hash-of-token', 'imf_abcd' from users`);
    await run(sql`insert into settings (key, value) values ('leaseSeconds', '45'::jsonb),
      ('notificationRecipients', '["ops@example.com"]'::jsonb)`);
    await run(sql`insert into jobs (name, source_server_id, source_email, source_secret, dest_server_id, dest_email,
        dest_secret, dry_run, status, attempt, stats, verification, error_message, options)
      select 'alice', s1.id, 'alice@old.test', 'v1:key:sealed-source', s2.id, 'alice@new.test', 'v1:key:sealed-dest',
        false, 'incomplete', 2, '{"messagesTransferred": 40}'::jsonb, '{"missing": 2}'::jsonb, '2 are missing',
        '{"addHeader": false, "maxAgeDays": 30}'::jsonb
      from servers s1, servers s2 where s1.name = 'old' and s2.name = 'new'`);
    // A batch where alice was run twice (the second time with her login in capitals) and bob once.
    await run(sql`insert into batches (tag, dry_run, defaults) values ('wave-1', false, '{}'::jsonb)`);
    await run(sql`insert into jobs (name, batch_id, source_server_id, source_email, source_secret, dest_server_id,
        dest_email, dest_secret, dry_run, status)
      select x.name, b.id, s1.id, x.login, 'v1:key:s', s2.id, 'alice@new.test', 'v1:key:d', false, x.status
      from (values ('wave alice 1', 'alice@old.test', 'failed'), ('wave alice 2', 'ALICE@old.test', 'done'),
                   ('wave bob', 'bob@old.test', 'failed')) as x(name, login, status),
           batches b, servers s1, servers s2 where s1.name = 'old' and s2.name = 'new'`);
    await run(sql`insert into workers (id, hostname, pid, capacity, heartbeat_at)
      values ('old-worker', 'host-a', 4242, 2, now() - interval '1 minute')`);
    await run(sql`insert into job_logs (job_id, byte_offset, chunk) select id, 0, 'first line\n' from jobs`);
    await run(
      sql`insert into job_logs (job_id, byte_offset, chunk) select id, 11, 'second line\n' from jobs`,
    );

    const upgraded = await migrateToLatest(database);
    expect(upgraded.applied[0]).not.toBe(PREVIOUS);
    expect(upgraded.applied.length).toBeGreaterThan(0);

    const job = await database.db
      .selectFrom("jobs")
      .selectAll()
      .where("name", "=", "alice")
      .executeTakeFirstOrThrow();
    expect(job).toMatchObject({
      name: "alice",
      source_email: "alice@old.test",
      source_secret: "v1:key:sealed-source",
      dest_secret: "v1:key:sealed-dest",
      status: "incomplete",
      attempt: 2,
      stats: { messagesTransferred: 40 },
      verification: { missing: 2 },
      error_message: "2 are missing",
      // New in 0008: a job that never waited.
      resume_at: null,
      auto_retries: 0,
      // New in 0016: the options it had are its own, so a rerun keeps them.
      options: { addHeader: false, maxAgeDays: 30 },
      option_origins: { addHeader: "job", maxAgeDays: "job" },
    });
    const logs = await database.db
      .selectFrom("job_logs")
      .select("chunk")
      .where("job_id", "=", job.id)
      .orderBy("byte_offset")
      .execute();
    expect(logs.map((l) => l.chunk).join("")).toBe("first line\nsecond line\n");
    const settings = await database.db
      .selectFrom("settings")
      .select(["key", "value"])
      .orderBy("key")
      .execute();
    expect(settings).toEqual([
      { key: "leaseSeconds", value: 45 },
      { key: "notificationRecipients", value: ["ops@example.com"] },
    ]);
    // New in 0013: a token made before roles could do everything but create tokens, in every tenant.
    expect(
      await database.db.selectFrom("api_tokens").select(["name", "prefix", "role", "tenant"]).execute(),
    ).toEqual([{ name: "panel", prefix: "imf_abcd", role: "admin", tenant: null }]);
    await expect(run(sql`update api_tokens set role = 'owner'`)).rejects.toThrow(/api_tokens_role_known/);
    expect(await database.db.selectFrom("users").select("username").execute()).toEqual([
      { username: "admin" },
    ]);
    // New in 0007: a worker registered before it has no known process identity and has not exited.
    const workers = await sql<Record<string, unknown>>`
      select id, hostname, pid, boot_id, pid_namespace, process_start, exited_at from workers`.execute(
      database.db,
    );
    expect(workers.rows).toEqual([
      {
        id: "old-worker",
        hostname: "host-a",
        pid: 4242,
        boot_id: null,
        pid_namespace: null,
        process_start: null,
        exited_at: null,
      },
    ]);
    // New in 0010: a job outside a batch supersedes nothing; in the batch, alice's first run is
    // superseded by her second (logins compare case-insensitively), and bob's only run is his latest.
    const runs = await database.db
      .selectFrom("jobs")
      .select(["id", "name", "superseded_by"])
      .orderBy("id")
      .execute();
    const idOf = (name: string) => runs.find((r) => r.name === name)?.id;
    expect(runs.map((r) => [r.name, r.superseded_by])).toEqual([
      ["alice", null],
      ["wave alice 1", idOf("wave alice 2")],
      ["wave alice 2", null],
      ["wave bob", null],
    ]);
    // New in 0019: old servers have no budgets or connection cap, and no usage is counted yet.
    expect(
      await database.db
        .selectFrom("servers")
        .select(["name", "daily_download_bytes", "daily_upload_bytes", "max_connections"])
        .orderBy("name")
        .execute(),
    ).toEqual([
      { name: "new", daily_download_bytes: null, daily_upload_bytes: null, max_connections: null },
      { name: "old", daily_download_bytes: null, daily_upload_bytes: null, max_connections: null },
    ]);
    expect(await database.db.selectFrom("account_usage").selectAll().execute()).toEqual([]);
    // The new status is accepted now.
    await database.db.updateTable("jobs").set({ status: "waiting" }).where("id", "=", job.id).execute();
    // New in 0018: no job had a credential link; a job may now await its owner's password, with one
    // pending link at a time.
    expect(await database.db.selectFrom("credential_requests").select("id").execute()).toEqual([]);
    await database.db
      .updateTable("jobs")
      .set({ status: "awaiting_credentials" })
      .where("id", "=", job.id)
      .execute();
    await run(sql`insert into credential_requests (job_id, token_hash, expires_at)
      values (${job.id}, 'hash-1', now() + interval '7 days')`);
    await expect(
      run(sql`insert into credential_requests (job_id, token_hash, expires_at)
        values (${job.id}, 'hash-2', now() + interval '7 days')`),
    ).rejects.toThrow(/credential_requests_one_pending/);
    await database.db.updateTable("jobs").set({ status: "waiting" }).where("id", "=", job.id).execute();

    // New in 0009: servers keep their endpoints and have no admin credentials.
    const servers = await sql<Record<string, unknown>>`
      select name, host, port, security, admin_mode, admin_login, admin_secret, admin_separator
      from servers order by name`.execute(database.db);
    expect(servers.rows).toEqual([
      { name: "new", host: "imap.new.test", port: 143, security: "starttls", ...NO_ADMIN },
      { name: "old", host: "imap.old.test", port: 993, security: "tls", ...NO_ADMIN },
    ]);
    // Admin credentials are all there or not at all, in a known mode…
    await expect(
      run(sql`update servers set admin_mode = 'sasl-authzid', admin_login = 'master' where name = 'new'`),
    ).rejects.toThrow(/servers_admin_complete/);
    await expect(
      run(sql`update servers set admin_mode = 'kerberos', admin_login = 'm', admin_secret = 'v1:key:m',
        admin_separator = '*' where name = 'new'`),
    ).rejects.toThrow(/check constraint/);
    await run(sql`update servers set admin_mode = 'login-separator', admin_login = 'master',
      admin_secret = 'v1:key:sealed-admin', admin_separator = '*' where name = 'new'`);
    // …and a job may lean on them, with no password of its own.
    await run(sql`insert into jobs (source_server_id, source_email, source_secret, dest_server_id, dest_email, dest_secret)
      select s.id, 'bob', null, s.id, 'bob', null from servers s where s.name = 'new'`);
    const leaning = await sql<{ n: number }>`
      select count(*)::int as n from jobs where source_secret is null and dest_secret is null`.execute(
      database.db,
    );
    expect(leaning.rows[0]?.n).toBe(1);

    // New in 0011: OAuth2 modes hold a login (client email / client id) and a secret but no separator…
    await expect(
      run(sql`update servers set admin_mode = 'microsoft-app', admin_separator = '*' where name = 'new'`),
    ).rejects.toThrow(/servers_admin_complete/);
    await run(sql`update servers set admin_mode = 'microsoft-app', admin_login = 'client-id',
      admin_secret = 'v1:key:sealed-app', admin_separator = null,
      admin_token_url = 'https://login.example/t/token' where name = 'new'`);
    // …and a job side holds a password or a delegated grant, never both.
    await expect(
      run(
        sql`update jobs set source_secret = 'v1:key:pw', source_oauth2 = 'v1:key:grant' where source_email = 'bob'`,
      ),
    ).rejects.toThrow(/jobs_source_one_credential/);
    await run(sql`update jobs set source_oauth2 = 'v1:key:grant' where source_email = 'bob'`);

    // New in 0017: webhook endpoints, and one delivery per event per endpoint, whatever retries happen.
    await run(sql`insert into webhook_endpoints (url, secret, event_types)
      values ('https://panel.example/hook', 'v1:key:sealed-hook', '{job.ended}')`);
    await run(
      sql`insert into webhook_events (type, dedupe_key, data) values ('job.ended', 'job.ended:1', '{}')`,
    );
    await expect(
      run(sql`insert into webhook_events (type, dedupe_key, data) values ('job.ended', 'job.ended:1', '{}')`),
    ).rejects.toThrow(/webhook_events_dedupe_key_unique/);
    const deliver = sql`insert into webhook_deliveries (endpoint_id, event_id)
      select e.id, ev.id from webhook_endpoints e, webhook_events ev`;
    await run(deliver);
    await expect(run(deliver)).rejects.toThrow(/webhook_deliveries_once_per_endpoint/);
  });
});
