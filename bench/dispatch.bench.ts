import { createRequire } from "node:module";
import { createJob, createServer, type EngineRunner, runEngine, startWorker } from "@imapferry/core";
import { benchContext, freshBenchDatabase } from "./csv-import.bench.ts";
import type { BenchRow } from "./types.ts";

/*
 * Dispatch latency with idle workers: from the moment a job is created (row + queue entry committed)
 * to the moment its engine process exists, over 200 jobs created one after another. graphile-worker
 * LISTENs for new entries, so nothing waits for a poll. The engine here is /bin/true spawned through
 * the engines' runner (the same spawn path as a real engine, minus the IMAP work a real one would then
 * do); the pre-flight count is off because there is no IMAP server to count.
 * Baseline: graphile-worker alone on the same database: add_job of a no-op task → that task starts.
 */
const JOBS = 200;

const coreRequire = createRequire(new URL("../packages/core/package.json", import.meta.url));
const { sql } = (await import(coreRequire.resolve("kysely"))) as typeof import("kysely");

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export default async function dispatchBench(): Promise<BenchRow[]> {
  const database = await freshBenchDatabase();
  const ctx = benchContext(database.handle);
  const spawned = new Map<string, (at: number) => void>();
  const noopStarted: { resolve?: (at: number) => void } = {};
  const runner: EngineRunner = {
    async run(input) {
      const result = await runEngine({
        bin: "/bin/true",
        args: [],
        env: {},
        mailboxes: {
          source: { user: input.spec.source.user, host: input.spec.source.host },
          destination: { user: input.spec.destination.user, host: input.spec.destination.host },
        },
        onSpawn: () => spawned.get(input.spec.source.user)?.(performance.now()),
      });
      return { exitCode: result.exitCode, category: result.category, sentence: result.sentence, stats: null };
    },
  };
  const worker = await startWorker({
    ctx,
    engine: { kind: "builtin", bin: "/bin/true", prefixArgs: [], version: "bench" },
    engineRunner: runner,
    preflight: false,
    concurrency: 4,
    tasks: {
      bench_noop: async function benchNoop() {
        noopStarted.resolve?.(performance.now());
      },
    },
  });
  try {
    // Settings are read once per fetch; large limits so the per-host limit never makes a job wait here.
    const source = await createServer(ctx, {
      name: "source",
      host: "imap.source.example",
      sourceHostLimit: 1000,
    });
    const dest = await createServer(ctx, { name: "dest", host: "imap.dest.example" });

    const latencies: number[] = [];
    for (let i = 0; i < JOBS + 10; i++) {
      const user = `u${i}@source.example`;
      const spawnedAt = new Promise<number>((resolve) => spawned.set(user, resolve));
      const started = performance.now();
      await createJob(ctx, {
        sourceServerId: source.id,
        sourceEmail: user,
        sourcePassword: "pw",
        destServerId: dest.id,
        destEmail: `u${i}@dest.example`,
        destPassword: "pw",
      });
      const at = await spawnedAt;
      if (i >= 10) latencies.push(at - started); // the first ten warm up the JIT and the connections
    }

    const baseline: number[] = [];
    for (let i = 0; i < JOBS + 10; i++) {
      const startedAt = new Promise<number>((resolve) => {
        noopStarted.resolve = resolve;
      });
      const started = performance.now();
      await sql`select graphile_worker.add_job('bench_noop', '{}'::json)`.execute(ctx.db);
      const at = await startedAt;
      if (i >= 10) baseline.push(at - started);
    }

    latencies.sort((a, b) => a - b);
    baseline.sort((a, b) => a - b);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const b50 = percentile(baseline, 50);
    const b99 = percentile(baseline, 99);
    return [
      {
        name: `Dispatch create → engine spawn, p50 (${JOBS} jobs, idle worker)`,
        figure: p50,
        unit: "ms",
        baseline: b50,
        baselineName: "graphile-worker add_job → no-op task",
        ratio: p50 / b50,
        target: "p50 < 50 ms",
        lowerIsBetter: true,
      },
      {
        name: `Dispatch create → engine spawn, p99 (${JOBS} jobs, idle worker)`,
        figure: p99,
        unit: "ms",
        baseline: b99,
        baselineName: "graphile-worker add_job → no-op task",
        ratio: p99 / b99,
        lowerIsBetter: true,
      },
    ];
  } finally {
    await worker.stop();
    await database.drop();
  }
}
