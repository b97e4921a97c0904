/**
 * A worker as its own OS process, for tests of what happens across processes (shared queue, kill -9,
 * SIGTERM). Run with `node --conditions=source --import tsx worker-process.ts`; configured through the
 * environment (tests may read env for harness configuration). Prints one JSON line per event on stdout:
 * {"ready":id}, {"spawned":pid}, {"stopped":true}.
 */
import { openDatabase } from "@imapferry/db";
import { createConsoleLogger, silentLogger, systemClock } from "../../src/context.ts";
import { resolveEngine } from "../../src/engines/select-engine.ts";
import { defaultEngineRunner } from "../../src/queue/engine-run.ts";
import { startWorker } from "../../src/queue/worker.ts";
import { createVault } from "../../src/vault/vault.ts";

const env = process.env;
const database = openDatabase(env.WORKER_DATABASE_URL ?? "");
const vault = createVault({
  keys: { test: Buffer.from(env.WORKER_SECRET_KEY ?? "", "base64") },
  currentKeyId: "test",
});
const log = env.WORKER_LOG === "1" ? createConsoleLogger({ worker: env.WORKER_ID }) : silentLogger;
const ctx = { db: database.db, pool: database.pool, vault, log, clock: systemClock };
const engine = await resolveEngine({ engine: "builtin" });

function say(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const worker = await startWorker({
  ctx,
  engine,
  workerId: env.WORKER_ID,
  concurrency: Number(env.WORKER_CONCURRENCY ?? "2"),
  pool: env.WORKER_POOL || null,
  heartbeatMs: Number(env.WORKER_HEARTBEAT_MS ?? "500"),
  engineRunner: defaultEngineRunner(engine, { onSpawn: (pid) => say({ spawned: pid }) }),
});
say({ ready: worker.id });

let signals = 0;
process.on("SIGTERM", function onSigterm() {
  signals++;
  // First SIGTERM: drain (take nothing new, let migrations finish). Second: hand them back and exit.
  const stopping = signals === 1 ? worker.drain() : worker.stop({ handBack: true });
  say({ signal: signals });
  stopping.then(
    async () => {
      await database.close();
      say({ stopped: true });
      process.exit(0);
    },
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    },
  );
});
