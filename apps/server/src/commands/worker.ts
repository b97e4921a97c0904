import { errorMessage } from "@imapferry/core";
import { type Command, InvalidArgumentError } from "commander";
import { loadConfig } from "../config.ts";
import { type ProcessWorkers, startProcessWorkers } from "../process-workers.ts";
import { openRuntime } from "../runtime.ts";

const POOL_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/i;

function parseConcurrency(value: string): string {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new InvalidArgumentError("Give a whole number from 1 to 256.");
  return value;
}

function parsePool(value: string): string {
  if (!POOL_PATTERN.test(value))
    throw new InvalidArgumentError("Pool names use letters, digits, '-' and '_' (at most 63 characters).");
  return value;
}

export function register(program: Command): void {
  program
    .command("worker")
    .description(
      "Run migrations only (no API): start any number, on any machines, against the same DATABASE_URL",
    )
    .option(
      "-c, --concurrency <n>",
      "migrations run at once (default: IMAPFERRY_WORKER_CONCURRENCY, else the workerConcurrency setting, 4)",
      parseConcurrency,
    )
    .option(
      "--pool <name>",
      "serve only jobs routed to this pool (default: IMAPFERRY_POOL, else the default pool)",
      parsePool,
    )
    .action(async function workerCommand(options: { concurrency?: string; pool?: string }) {
      const config = loadConfig({
        ...process.env,
        ...(options.concurrency ? { IMAPFERRY_WORKER_CONCURRENCY: options.concurrency } : {}),
        ...(options.pool ? { IMAPFERRY_POOL: options.pool } : {}),
      });
      const runtime = await openRuntime(config, { embedded: "join" });
      let workers: ProcessWorkers;
      try {
        workers = await startProcessWorkers(runtime);
      } catch (e: unknown) {
        await runtime.close();
        throw e;
      }
      // Before the announcement: a signal that arrives with no handler yet kills the process outright.
      handleStopSignals(workers, async function closeRuntime() {
        await runtime.close();
      });
      process.stdout.write(
        `imapferry worker ${workers.migrations.id} is running (pool: ${config.pool ?? "default"}, engine: ${runtime.engine.kind}). ` +
          "SIGTERM drains; a second SIGTERM hands running migrations back.\n",
      );
    });
}

/**
 * First SIGTERM/SIGINT: drain — take nothing new, let running migrations finish (they can take days;
 * that is what an upgrade on a worker machine wants). Second: hand them back — each is stopped,
 * marked interrupted and queued again as its next attempt, for another worker to resume — and exit.
 */
function handleStopSignals(workers: ProcessWorkers, close: () => Promise<void>): void {
  let signals = 0;
  function onStopSignal(signal: NodeJS.Signals): void {
    signals++;
    if (signals === 1) {
      process.stdout.write(
        `imapferry worker: ${signal}: draining (${workers.migrations.running.length} running); send it again to hand them back.\n`,
      );
      void finish(workers.drain());
    } else if (signals === 2) {
      process.stdout.write(
        `imapferry worker: ${signal} again: handing ${workers.migrations.running.length} migration(s) back.\n`,
      );
      void finish(workers.stop({ handBack: true }));
    } else {
      process.stderr.write("imapferry worker: exiting now.\n");
      process.exit(130);
    }
  }
  let finishing = false;
  async function finish(stopping: Promise<void>): Promise<void> {
    try {
      await stopping;
      if (finishing) return;
      finishing = true;
      await close();
      process.stdout.write("imapferry worker: stopped.\n");
      process.exit(0);
    } catch (e: unknown) {
      process.stderr.write(`imapferry worker: error while stopping: ${errorMessage(e)}\n`);
      process.exit(1);
    }
  }
  process.on("SIGTERM", onStopSignal);
  process.on("SIGINT", onStopSignal);
}
