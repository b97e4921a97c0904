#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { EXIT } from "./exit-codes.ts";
import { registerOperatorCommands } from "./index.ts";

const program = new Command()
  .name("imapferry")
  .description(
    "Operate an imapferry server from a shell or a script. Set IMAPFERRY_URL and IMAPFERRY_TOKEN (or IMAPFERRY_TOKEN_FILE).",
  )
  .showHelpAfterError()
  .exitOverride();
registerOperatorCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e: unknown) {
  if (!(e instanceof CommanderError)) throw e;
  // Commander has printed its message; help and --version are not errors.
  process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
}
