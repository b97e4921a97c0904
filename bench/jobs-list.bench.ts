import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { createServer, enqueueJobs, type ServiceContext } from "@imapferry/core";
import { createClient, type ImapferryClient } from "@imapferry/sdk";
import { benchContext, freshBenchDatabase } from "./csv-import.bench.ts";
import { type ApiProcess, benchToken, percentile, startApiProcess } from "./subscribers.bench.ts";
import type { BenchRow } from "./types.ts";

/*
 * jobs.list at a steady 200 requests/s for 30 s against 100,000 jobs, through the SDK, against a
 * separate `imapferry start --no-worker`. Open loop: request i is due at i × 5 ms and its latency is
 * counted from then, so a server that falls behind is charged for the queue it causes. The requests
 * mix what a panel asks: the first page, a status filter, a batch, and deeper pages by cursor.
 * Baseline (same run, same rate): `health`, i.e. HTTP + tRPC + authentication-free `select 1`.
 */
// The bench is a workspace tool, not a package: libraries come from the packages that depend on them.
const coreRequire = createRequire(new URL("../packages/core/package.json", import.meta.url));
const { sql } = (await import(coreRequire.resolve("kysely"))) as typeof import("kysely");

const JOBS = 100_000;
const BATCHES = 100;
const RATE_PER_SECOND = 200;
const SECONDS = 30;
const BASELINE_SECONDS = 10;

async function seedJobs(ctx: ServiceContext): Promise<{ batchIds: number[]; maxId: number }> {
  const source = await createServer(ctx, { name: "source", host: "imap.source.example" });
  const dest = await createServer(ctx, { name: "dest", host: "imap.dest.example" });
  const secret = ctx.vault.encrypt("not-a-real-password");
  await sql`
    insert into batches (tag, dry_run, defaults)
    select 'wave-' || n, false, '{}'::jsonb from generate_series(1, ${BATCHES}) as n`.execute(ctx.db);
  const batches = await ctx.db.selectFrom("batches").select("id").orderBy("id").execute();
  const firstBatch = batches[0]?.id ?? 1;
  // One statement for 100,000 rows; statuses spread as a busy installation has them.
  await sql`
    insert into jobs (name, batch_id, source_server_id, source_email, source_secret, dest_server_id,
                      dest_email, dest_secret, dry_run, options, status, progress, created_at)
    select 'user' || n || '@customer' || (n % 500) || '.example',
           ${firstBatch}::int + (n % ${BATCHES}),
           ${source.id}, 'user' || n || '@old.example', ${secret},
           ${dest.id}, 'user' || n || '@new.example', ${secret},
           false, '{}'::jsonb,
           (array['done','done','done','done','failed','queued','running','cancelled'])[1 + n % 8],
           jsonb_build_object('copied', n % 1000, 'skipped', 0, 'errors', 0, 'total', 1000, 'bytesCopied', n,
             'bytesTotal', null, 'msgsPerSecond', null, 'etaSeconds', null, 'messagesLeft', null,
             'folder', 'INBOX', 'folderIndex', 1, 'folderCount', 3),
           now() - make_interval(secs => ${JOBS} - n)
    from generate_series(1, ${JOBS}) as n`.execute(ctx.db);
  // As on a live installation: running jobs are held by a live worker (else the API's recovery sweeper
  // would spend the measurement interrupting 12,500 of them) and queued ones have their queue entry.
  await sql`insert into workers (id, hostname, pid, capacity, heartbeat_at)
    values ('bench-worker', 'bench-host', 1, 64, now() + interval '1 day')`.execute(ctx.db);
  await sql`update jobs set worker_id = 'bench-worker', lease_expires_at = now() + interval '1 day',
    started_at = now() where status = 'running'`.execute(ctx.db);
  const queued = await ctx.db.selectFrom("jobs").select("id").where("status", "=", "queued").execute();
  await enqueueJobs(ctx.db, { jobIds: queued.map((j) => j.id) });
  // A table in steady state: without this, autovacuum wakes up for the 100,000 new rows in the middle
  // of the measurement (seen as one stall of over a second that set p99 on its own).
  await sql`vacuum analyze jobs`.execute(ctx.db);
  const max = await ctx.db
    .selectFrom("jobs")
    .select((eb) => eb.fn.max("id").as("id"))
    .executeTakeFirstOrThrow();
  return { batchIds: batches.map((b) => b.id), maxId: Number(max.id) };
}

/** Fires `call` at a fixed rate for `seconds`, open loop; latencies in ms counted from each due time. */
async function openLoop(
  seconds: number,
  call: (i: number) => Promise<unknown>,
): Promise<{ latencies: number[]; errors: number; firstError: unknown }> {
  const interval = 1000 / RATE_PER_SECOND;
  const total = Math.round(seconds * RATE_PER_SECOND);
  const latencies: number[] = [];
  let errors = 0;
  let firstError: unknown;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    while (sent < total && start + sent * interval <= now) {
      const due = start + sent * interval;
      pending.push(
        call(sent).then(
          () => void latencies.push(performance.now() - due),
          (e: unknown) => {
            errors++;
            firstError ??= e;
          },
        ),
      );
      sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(pending);
  return { latencies: latencies.sort((a, b) => a - b), errors, firstError };
}

export default async function jobsListBench(): Promise<BenchRow[]> {
  const database = await freshBenchDatabase();
  let server: ApiProcess | undefined;
  try {
    const ctx = benchContext(database.handle);
    const token = await benchToken(ctx);
    const { batchIds, maxId } = await seedJobs(ctx);
    server = await startApiProcess(database.handle.connectionString);
    const client: ImapferryClient = createClient({ url: server.url, token });
    const statuses = ["failed", "running", "queued", "done"] as const;
    const listCall = (i: number) => {
      switch (i % 4) {
        case 0:
          return client.jobs.list.query({ limit: 50 });
        case 1:
          return client.jobs.list.query({ status: statuses[i % statuses.length], limit: 50 });
        case 2:
          return client.jobs.list.query({ batchId: batchIds[i % batchIds.length], limit: 50 });
        default:
          return client.jobs.list.query({ cursor: String(1 + ((i * 7919) % maxId)), limit: 50 });
      }
    };
    // Warm-up: connections, JIT, the database's caches.
    await openLoop(3, listCall);
    const healthCpuBefore = await server.cpuMs();
    const baseline = await openLoop(BASELINE_SECONDS, () => client.health.query());
    const healthCpuPerRequest = ((await server.cpuMs()) - healthCpuBefore) / baseline.latencies.length;
    const serverCpuBefore = await server.cpuMs();
    const started = performance.now();
    const measured = await openLoop(SECONDS, listCall);
    const serverCpu = (await server.cpuMs()) - serverCpuBefore;
    // On a shared 2-core machine the figures only mean something next to how busy the server was.
    process.stderr.write(
      `bench: jobs-list: server used ${((serverCpu / (performance.now() - started)) * 100).toFixed(0)}% of a core, ${(serverCpu / measured.latencies.length).toFixed(2)} ms CPU per request; load average ${loadavg()[0]?.toFixed(1)}\n`,
    );
    if (measured.errors > 0 || baseline.errors > 0) {
      throw new Error(`${measured.errors} jobs.list and ${baseline.errors} health requests failed`, {
        cause: measured.firstError ?? baseline.firstError,
      });
    }
    const cpuPerRequest = serverCpu / measured.latencies.length;
    const rows: BenchRow[] = [50, 99].map((p) => {
      const figure = percentile(measured.latencies, p);
      const base = percentile(baseline.latencies, p);
      return {
        name: `jobs.list on ${JOBS.toLocaleString("en")} jobs at ${RATE_PER_SECOND} req/s: p${p}`,
        figure,
        unit: "ms",
        baseline: base,
        baselineName: "health (select 1)",
        ratio: figure / base,
        lowerIsBetter: true,
        ...(p === 99 ? { target: "p99 < 50 ms" } : {}),
      };
    });
    // Latency on a shared machine depends on who else runs; the server's CPU per request does not, and
    // says what rate one core sustains (1000 / figure requests per second).
    rows.push({
      name: "jobs.list: API server CPU per request",
      figure: cpuPerRequest,
      unit: "ms",
      baseline: healthCpuPerRequest,
      baselineName: "health (select 1)",
      ratio: cpuPerRequest / healthCpuPerRequest,
      lowerIsBetter: true,
      target: `< ${(1000 / RATE_PER_SECOND / 2).toFixed(1)} ms (200 req/s in half a core)`,
    });
    return rows;
  } finally {
    await server?.stop();
    await database.drop();
  }
}
