import { createRequire } from "node:module";
import { createJob, createLogWriter, createServer } from "@imapferry/core";
import { benchContext, freshBenchDatabase } from "./csv-import.bench.ts";
import type { BenchRow } from "./types.ts";

/*
 * Log append throughput over a 50 MB log, through the same batched writer the worker uses (64 KiB
 * chunk rows with byte offsets, a NOTIFY per flush). Append-only rows must not slow down as the log
 * grows — unlike `log = log || chunk`, which rewrites the whole value on every append — so the last
 * 10 MB are compared with the first 10 MB of the same run.
 */
const TOTAL_MB = 50;
const WINDOW_MB = 10;
const MB = 1024 * 1024;

const coreRequire = createRequire(new URL("../packages/core/package.json", import.meta.url));
const { sql } = (await import(coreRequire.resolve("kysely"))) as typeof import("kysely");

/** imapsync-shaped lines, ~110 bytes each, some non-ASCII. */
function line(i: number): string {
  return `msg Archiv/2024/Café/${i % 977} [${i}] {${4096 + (i % 5000)}} copied to Archiv/2024/Café/${i % 977} ${(i * 7) % 100} msgs/s ETA 2026-11-23\n`;
}

export default async function logAppendBench(): Promise<BenchRow[]> {
  const database = await freshBenchDatabase();
  try {
    const ctx = benchContext(database.handle);
    const source = await createServer(ctx, { name: "source", host: "imap.source.example" });
    const job = await createJob(ctx, {
      sourceServerId: source.id,
      sourceEmail: "a@source.example",
      sourcePassword: "pw",
      destServerId: source.id,
      destEmail: "a@dest.example",
      destPassword: "pw",
    });
    const writer = createLogWriter({ db: ctx.db, jobId: job.id });
    const windows: { startedAt: number; endedAt?: number }[] = [];
    let written = 0;
    let i = 0;
    const started = performance.now();
    while (written < TOTAL_MB * MB) {
      const windowIndex = Math.floor(written / (WINDOW_MB * MB));
      if (!windows[windowIndex]) {
        const previous = windows[windowIndex - 1];
        if (previous) previous.endedAt = performance.now();
        windows[windowIndex] = { startedAt: performance.now() };
      }
      // An engine's output arrives faster than one chunk per flush interval here: flush every 256 KiB
      // (four chunk rows) so the buffer never holds more than a few chunks, as with real backpressure.
      let batch = 0;
      while (batch < 256 * 1024) {
        const text = line(i++);
        writer.write(text);
        batch += Buffer.byteLength(text);
      }
      written += batch;
      await writer.flush();
    }
    await writer.close();
    const last = windows.at(-1);
    if (last) last.endedAt = performance.now();
    const totalSeconds = (performance.now() - started) / 1000;
    const stored = await sql<{ n: string; bytes: string }>`
      select count(*)::text as n, coalesce(sum(octet_length(chunk)), 0)::text as bytes from job_logs where job_id = ${job.id}`.execute(
      ctx.db,
    );
    const storedBytes = Number(stored.rows[0]?.bytes);
    if (storedBytes !== written) throw new Error(`stored ${storedBytes} bytes, wrote ${written}`);
    const rate = (w: { startedAt: number; endedAt?: number } | undefined) =>
      w?.endedAt ? WINDOW_MB / ((w.endedAt - w.startedAt) / 1000) : Number.NaN;
    const first = rate(windows[0]);
    const lastRate = rate(windows[TOTAL_MB / WINDOW_MB - 1]);
    return [
      {
        name: `Log append, last ${WINDOW_MB} MB of a ${TOTAL_MB} MB log`,
        figure: lastRate,
        unit: "MB/s",
        baseline: first,
        baselineName: `first ${WINDOW_MB} MB`,
        ratio: lastRate / first,
        target: "ratio ≥ 0.83 (within 1.2×)",
      },
      {
        name: `Log append, whole ${TOTAL_MB} MB (${stored.rows[0]?.n} chunk rows, a NOTIFY each)`,
        figure: TOTAL_MB / totalSeconds,
        unit: "MB/s",
        baseline: null,
        baselineName: "",
        ratio: null,
      },
    ];
  } finally {
    await database.drop();
  }
}
