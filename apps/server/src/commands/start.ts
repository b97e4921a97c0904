import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { ensureInitialAdmin, type RecoverySweeper, startRecoverySweeper } from "@imapferry/core";
import type { Command } from "commander";
import { loadConfig } from "../config.ts";
import { createHttpApp } from "../http/app.ts";
import { type ProcessWorkers, startProcessWorkers } from "../process-workers.ts";
import { openRuntime, StartupError } from "../runtime.ts";
import { onShutdownSignal } from "../shutdown.ts";

export function register(program: Command): void {
  program
    .command("start")
    .description(
      "Start the API, the panel and a worker in one process (embedded PostgreSQL without DATABASE_URL)",
    )
    .option("-p, --port <port>", "HTTP port (default: PORT or 8080)")
    .option("--host <host>", "address to listen on (default: HOST or 127.0.0.1)")
    .option("--no-worker", "serve the API and panel only; run `imapferry worker` elsewhere")
    .action(async function startCommand(options: { port?: string; host?: string; worker: boolean }) {
      const config = loadConfig({
        ...process.env,
        ...(options.port ? { PORT: options.port } : {}),
        ...(options.host ? { HOST: options.host } : {}),
      });
      const runtime = await openRuntime(config, { embedded: "own" });
      const { log } = runtime.ctx;
      let httpServer: Server | undefined;
      let http: Awaited<ReturnType<typeof createHttpApp>> | undefined;
      let workers: ProcessWorkers | undefined;
      let recovery: RecoverySweeper | undefined;
      const stopAll = async () => {
        // Stop taking requests first, then hand running migrations back so another worker (or our next
        // start) resumes them, then close the database last.
        httpServer?.closeAllConnections();
        await new Promise<void>((resolve) => (httpServer ? httpServer.close(() => resolve()) : resolve()));
        await http?.close();
        await recovery?.stop();
        await workers?.stop({ handBack: true });
        await runtime.close();
      };
      // From here on Ctrl-C or SIGTERM stops everything in order, the database last. Registered before
      // anything is announced: a signal with no handler yet would kill the process outright (and, with
      // the embedded database in a process group of its own, leave it running).
      onShutdownSignal(async function shutDownStart() {
        process.stdout.write("imapferry: shutting down…\n");
        await stopAll();
      });
      try {
        http = await createHttpApp({ runtime });
        httpServer = await listen(http.app.fetch, config.port, config.host);
        if (options.worker) workers = await startProcessWorkers(runtime);
        // Without a worker of its own (a worker has its own sweeper), the API still re-queues the jobs
        // of dead workers, so a worker started later finds them queued instead of 'running' on a ghost.
        else recovery = startRecoverySweeper(runtime.ctx);
        const initialPassword = await ensureInitialAdmin(runtime.ctx);
        if (initialPassword) {
          process.stdout.write(
            `\nFirst start: created the user "admin" with the password\n\n    ${initialPassword}\n\n` +
              "It is shown only this once. Change it with `imapferry users reset-password admin`.\n\n",
          );
        }
        process.stdout.write(
          `imapferry is running: ${config.publicUrl}  (database: ${runtime.databaseKind}, engine: ${runtime.engine.kind})\n`,
        );
        log.info("started", {
          url: config.publicUrl,
          database: runtime.databaseKind,
          engine: runtime.engine.kind,
        });
      } catch (e: unknown) {
        await stopAll();
        throw e;
      }
    });
}

function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  port: number,
  hostname: string,
): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname }) as Server;
    server.once("listening", () => resolve(server));
    server.once("error", (e: NodeJS.ErrnoException) => {
      reject(
        new StartupError(
          e.code === "EADDRINUSE"
            ? `Port ${port} on ${hostname} is already in use. Stop the other program or choose another port with PORT=… or --port.`
            : e.code === "EACCES"
              ? `Not allowed to listen on port ${port}. Use a port above 1024 or run with the needed privilege.`
              : `Cannot listen on ${hostname}:${port}: ${e.message}`,
        ),
      );
    });
  });
}
