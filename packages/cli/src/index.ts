import type { Command } from "commander";
import { registerBatchCommands } from "./commands/batches.ts";
import { registerJobCommands } from "./commands/jobs.ts";

import { EXIT } from "./exit-codes.ts";

export { EXIT };

/**
 * Adds the operator commands (jobs, batches, report) to a commander program: `imapferry` from this
 * package, and the server's own `imapferry`, which has them beside start/worker/users.
 */
export function registerOperatorCommands(program: Command): void {
  program.option("--json", "print JSON for scripts instead of text");
  program.addHelpText(
    "after",
    `
Operator commands (jobs, batches, report) read IMAPFERRY_URL and IMAPFERRY_TOKEN (or IMAPFERRY_TOKEN_FILE).
Exit codes: ${EXIT.ok} done, ${EXIT.usage} usage, ${EXIT.refused} refused by the server, ${EXIT.unauthorized} not authorized, ${EXIT.unreachable} server unreachable,
${EXIT.incomplete} followed work incomplete, ${EXIT.failed} followed work failed or cancelled, ${EXIT.interrupted} following stopped (Ctrl-C).`,
  );
  registerJobCommands(program);
  registerBatchCommands(program);
}
