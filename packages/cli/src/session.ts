import type { ImapferryClient } from "@imapferry/sdk";
import type { Command } from "commander";
import { toCliError } from "./api-errors.ts";
import { connect } from "./connection.ts";
import { CliError, EXIT, type ExitCode } from "./exit-codes.ts";
import { type Output, writeJson, writeLines } from "./output.ts";

/** What every command's handler gets: the API client and where to write. */
export interface Session {
  client: ImapferryClient;
  out: Output;
}

type Handler<O> = (session: Session, args: string[], options: O) => Promise<ExitCode | void>;

/**
 * Wraps a command's handler: connects with the environment's URL and token, runs it, and turns what
 * it threw into one sentence (plus problem lines) on stderr — or a JSON error object with `--json` —
 * and the matching exit code.
 */
export function withSession<O>(handler: Handler<O>): (...args: unknown[]) => Promise<void> {
  return async (...commanderArgs: unknown[]) => {
    const command = commanderArgs.at(-1) as Command;
    const options = command.optsWithGlobals() as O & { json?: boolean };
    const out: Output = { json: Boolean(options.json), stdout: process.stdout, stderr: process.stderr };
    let url = process.env.IMAPFERRY_URL ?? "";
    try {
      const connection = connect();
      url = connection.url;
      process.exitCode =
        (await handler({ client: connection.client, out }, command.args, options)) ?? EXIT.ok;
    } catch (e: unknown) {
      const error = toCliError(e, url);
      if (!error) throw e;
      if (out.json)
        writeJson(out, {
          error: { message: error.message, details: error.details, exitCode: error.exitCode },
        });
      writeLines(out.stderr, [`imapferry: ${error.message}`, ...error.details.map((d) => `  ${d}`)]);
      process.exitCode = error.exitCode;
    }
  };
}

/** A job or batch id from the command line, or a usage error that names the argument. */
export function parseId(value: string, what: string): number {
  if (!/^[1-9]\d{0,14}$/.test(value)) {
    throw new CliError(EXIT.usage, `${what} must be a positive whole number (got "${value}").`);
  }
  return Number(value);
}

/** A batch by id ("12") or by tag ("spring-move"). */
export async function resolveBatchId(client: ImapferryClient, idOrTag: string): Promise<number> {
  if (/^[1-9]\d{0,14}$/.test(idOrTag)) return Number(idOrTag);
  return (await client.batches.get.query({ tag: idOrTag })).id;
}
