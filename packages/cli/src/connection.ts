import { readFileSync } from "node:fs";
import { createClient, type ImapferryClient } from "@imapferry/sdk";
import { CliError, EXIT } from "./exit-codes.ts";

export interface Connection {
  client: ImapferryClient;
  url: string;
}

/**
 * The server and token come from the environment, never from the command line: a token in argv would
 * be readable by every user of the machine (ps) and kept in shell history.
 */
export function connect(env: NodeJS.ProcessEnv = process.env): Connection {
  const url = env.IMAPFERRY_URL?.trim();
  if (!url) {
    throw new CliError(
      EXIT.usage,
      "Set IMAPFERRY_URL to the address of your imapferry server, e.g. IMAPFERRY_URL=https://migrations.example.com.",
    );
  }
  if (!/^https?:\/\//i.test(url)) {
    throw new CliError(EXIT.usage, `IMAPFERRY_URL must start with http:// or https:// (it is "${url}").`);
  }
  const token = readToken(env);
  if (!token) {
    throw new CliError(
      EXIT.usage,
      "Set IMAPFERRY_TOKEN to an API token (panel → Tokens), or IMAPFERRY_TOKEN_FILE to a file that holds one.",
    );
  }
  return { client: createClient({ url, token }), url };
}

function readToken(env: NodeJS.ProcessEnv): string | undefined {
  if (env.IMAPFERRY_TOKEN?.trim()) return env.IMAPFERRY_TOKEN.trim();
  const file = env.IMAPFERRY_TOKEN_FILE?.trim();
  if (!file) return undefined;
  try {
    return readFileSync(file, "utf8").trim() || undefined;
  } catch (e: unknown) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(EXIT.usage, `Cannot read IMAPFERRY_TOKEN_FILE (${file}): ${code ?? String(e)}.`);
  }
}
