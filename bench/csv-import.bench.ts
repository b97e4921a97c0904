import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  createServer,
  createVault,
  importBatch,
  previewImport,
  type ServiceContext,
  silentLogger,
  systemClock,
} from "@imapferry/core";
import { type DatabaseHandle, migrateToLatest, openDatabase, startEmbeddedDatabase } from "@imapferry/db";
import type { BenchRow } from "./types.ts";

// The bench is a workspace tool, not a package: libraries come from the packages that depend on them.
const coreRequire = createRequire(new URL("../packages/core/package.json", import.meta.url));
const { parse: parseCsv } = (await import(
  coreRequire.resolve("csv-parse/sync")
)) as typeof import("csv-parse/sync");
const { sql } = (await import(coreRequire.resolve("kysely"))) as typeof import("kysely");
const pg = ((await import(coreRequire.resolve("pg"))) as { default: typeof import("pg") }).default;

/*
 * CSV import of 10,000 rows: preview (parse + validate every row, writes nothing) and import (the
 * same checks, 20,000 encryptions, the batch, every job and its queue entry in one transaction).
 * Baselines from the same run: csv-parse alone on the same file, and a bare INSERT of the same rows
 * (no validation, no encryption, no queue entries) — what the job system adds on top of the floor.
 */
const ROWS = 10_000;

export interface BenchDatabase {
  handle: DatabaseHandle;
  drop(): Promise<void>;
}

/** A fresh, migrated database on BENCH_DATABASE_URL / TEST_DATABASE_URL / DATABASE_URL, else an embedded server. */
export async function freshBenchDatabase(): Promise<BenchDatabase> {
  let base = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  let stopEmbedded = async () => {};
  if (!base) {
    const dataDir = await mkdtemp(path.join(tmpdir(), "imapferry-bench-pg-"));
    const embedded = await startEmbeddedDatabase({ dataDir });
    base = embedded.connectionString;
    stopEmbedded = async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const name = `imapferry_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const handle = openDatabase(url.toString(), { maxConnections: 12 });
  await migrateToLatest(handle);
  return {
    handle,
    async drop() {
      await handle.close();
      const again = new pg.Client({ connectionString: base });
      await again.connect();
      await again.query(`drop database if exists "${name}" with (force)`);
      await again.end();
      await stopEmbedded();
    },
  };
}

export function benchContext(handle: DatabaseHandle): ServiceContext {
  const vault = createVault({ keys: { bench: randomBytes(32) }, currentKeyId: "bench" });
  return { db: handle.db, pool: handle.pool, vault, log: silentLogger, clock: systemClock };
}

function csvFile(sourceId: number): string {
  const lines = ["sourceServerId,sourceEmail,sourcePassword,destServerId,destEmail,destPassword,name"];
  for (let i = 0; i < ROWS; i++) {
    lines.push(
      `${sourceId},user${i}@old.example,"pw, ""${i}""",new-imap,user${i}@new.example,Dest-${i}-pw,User ${i}`,
    );
  }
  return `\uFEFF${lines.join("\r\n")}\r\n`;
}

export default async function csvImportBench(): Promise<BenchRow[]> {
  const database = await freshBenchDatabase();
  try {
    const ctx = benchContext(database.handle);
    const source = await createServer(ctx, { name: "old-imap", host: "imap.old.example" });
    await createServer(ctx, { name: "new-imap", host: "imap.new.example" });
    const csv = csvFile(source.id);

    // Warm-up on a small file so the first measured run is not also the JIT's first run.
    await previewImport(ctx, { csv: csv.slice(0, 20_000).replace(/\r\n[^\r\n]*$/, "\r\n") });

    let started = performance.now();
    parseCsv(csv, { bom: true, info: true, relax_column_count: true, skip_empty_lines: true });
    const parseMs = performance.now() - started;

    started = performance.now();
    const preview = await previewImport(ctx, { csv });
    const previewMs = performance.now() - started;
    if (!preview.ok || preview.rowCount !== ROWS)
      throw new Error(`preview found problems: ${JSON.stringify(preview.errors.slice(0, 3))}`);

    started = performance.now();
    const result = await importBatch(ctx, { csv, tag: "bench" });
    const importMs = performance.now() - started;
    if (result.jobCount !== ROWS) throw new Error(`imported ${result.jobCount} rows`);

    // Floor: the same rows inserted bare, in one statement, in a scratch table shaped like jobs.
    await sql`create table bench_jobs (like jobs including defaults)`.execute(ctx.db);
    started = performance.now();
    await sql`
      insert into bench_jobs (id, name, source_server_id, source_email, source_secret, dest_server_id, dest_email, dest_secret, dry_run)
      select n, 'User ' || n, ${source.id}, 'user' || n || '@old.example', 'x', ${source.id}, 'user' || n || '@new.example', 'y', true
      from generate_series(1, ${ROWS}) as n`.execute(ctx.db);
    const bareMs = performance.now() - started;

    const totalMs = previewMs + importMs;
    return [
      {
        name: "CSV import 10,000 rows: preview + import",
        figure: totalMs,
        unit: "ms",
        baseline: parseMs,
        baselineName: "csv-parse alone",
        ratio: totalMs / parseMs,
        target: "< 3000 ms",
        lowerIsBetter: true,
      },
      {
        name: "CSV preview 10,000 rows (validate, write nothing)",
        figure: previewMs,
        unit: "ms",
        baseline: parseMs,
        baselineName: "csv-parse alone",
        ratio: previewMs / parseMs,
        lowerIsBetter: true,
      },
      {
        name: "CSV import 10,000 rows (encrypt, batch, jobs, queue entries, one transaction)",
        figure: importMs,
        unit: "ms",
        baseline: bareMs,
        baselineName: "bare INSERT of 10,000 rows",
        ratio: importMs / bareMs,
        lowerIsBetter: true,
      },
    ];
  } finally {
    await database.drop();
  }
}
