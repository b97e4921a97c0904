import { errorMessage } from "@imapferry/core";
/**
 * Runs `stop` on the first SIGINT/SIGTERM, then exits. A second signal while stopping exits at once:
 * an operator pressing Ctrl-C twice means it.
 */
export function onShutdownSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`imapferry: ${signal} again, exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`imapferry: error while stopping: ${errorMessage(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}
