import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  id: string;
  /** Every JSON event the process printed so far. */
  events: Record<string, unknown>[];
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts test/support/worker-process.ts as a separate OS process and waits until its worker is registered. */
export async function spawnWorkerProcess(options: {
  databaseUrl: string;
  secretKey: string;
  id: string;
  concurrency?: number;
  pool?: string;
  heartbeatMs?: number;
  /** Print the worker's log (JSON lines) to the test's stderr. @defaultValue false */
  verbose?: boolean;
}): Promise<WorkerProcess> {
  const tsx = createRequire(import.meta.url).resolve("tsx");
  const child = spawn(
    process.execPath,
    ["--conditions=source", "--import", tsx, path.join(here, "worker-process.ts")],
    {
      env: {
        PATH: process.env.PATH,
        WORKER_DATABASE_URL: options.databaseUrl,
        WORKER_SECRET_KEY: options.secretKey,
        WORKER_ID: options.id,
        WORKER_CONCURRENCY: String(options.concurrency ?? 2),
        WORKER_POOL: options.pool ?? "",
        WORKER_HEARTBEAT_MS: String(options.heartbeatMs ?? 500),
        WORKER_LOG: options.verbose ? "1" : "0",
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const events: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        const event = JSON.parse(line) as Record<string, unknown>;
        events.push(event);
        if (event.ready) resolve();
      } catch {
        // not one of ours
      }
    });
    void exited.then((code) =>
      reject(new Error(`worker process ${options.id} exited (${code}) before it was ready`)),
    );
  });
  await ready;
  return { child, id: options.id, events, exited, kill: (signal) => child.kill(signal) };
}

/** Kills (SIGKILL) every process still alive in `processes` and empties the list: a test's clean-up. */
export async function killWorkerProcesses(processes: WorkerProcess[]): Promise<void> {
  for (const p of processes.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.kill("SIGKILL");
      await p.exited;
    }
  }
}

/** A database URL with its host and port replaced by a local proxy's, for a worker behind it. */
export function databaseUrlThrough(connectionString: string, proxyPort: number): string {
  const url = new URL(connectionString);
  url.hostname = "127.0.0.1";
  url.port = String(proxyPort);
  return url.toString();
}
