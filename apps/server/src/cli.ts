#!/usr/bin/env node
import { registerOperatorCommands } from "@imapferry/cli";
import { isImapferryError } from "@imapferry/core";
import { Command } from "commander";
import { register as registerKeys } from "./commands/keys.ts";
import { register as registerMigrate } from "./commands/migrate.ts";
import { register as registerStart } from "./commands/start.ts";
import { register as registerUsers } from "./commands/users.ts";
import { register as registerWorker } from "./commands/worker.ts";
import { ConfigError } from "./config.ts";
import { StartupError } from "./runtime.ts";
import { version } from "./version.ts";

const program = new Command()
  .name("imapferry")
  .description("Control plane for IMAP mailbox migrations")
  .version(version)
  .showHelpAfterError();

registerStart(program);
registerWorker(program);
registerMigrate(program);
registerUsers(program);
registerKeys(program);
// jobs, batches, report: the same commands as @imapferry/cli, speaking to a server over its API.
registerOperatorCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e: unknown) {
  exitWithError(e);
}

/** An operator's mistake is one line and a non-zero exit; a bug keeps its stack trace. */
export function exitWithError(e: unknown): never {
  if (e instanceof StartupError || e instanceof ConfigError || isImapferryError(e)) {
    process.stderr.write(`imapferry: ${e.message}\n`);
  } else {
    process.stderr.write(
      `imapferry: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
  }
  process.exit(1);
}
