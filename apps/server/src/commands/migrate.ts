import type { Command } from "commander";
import { loadConfig } from "../config.ts";
import { openRuntime } from "../runtime.ts";

export function register(program: Command): void {
  program
    .command("migrate")
    .description("Bring the database schema up to date (start and worker also do this) and exit")
    .action(async function migrateCommand() {
      // openRuntime migrates under an advisory lock; opening it is the whole job.
      const runtime = await openRuntime(loadConfig());
      await runtime.close();
      process.stdout.write("Database is up to date.\n");
    });
}
