import { createUser, listUsers, resetPassword } from "@imapferry/core";
import type { Command } from "commander";
import { loadConfig } from "../config.ts";
import { openRuntime } from "../runtime.ts";

interface PasswordOptions {
  passwordStdin?: boolean;
}

/**
 * Passwords never come from argv (every user of the machine can read it in /proc): they are typed at
 * a hidden prompt, read from stdin with --password-stdin, or generated and printed once.
 */
export function register(program: Command): void {
  const users = program.command("users").description("Manage the people who can log in to the panel and API");

  users
    .command("create <name>")
    .description(
      "Create a user; asks for a password (empty: generate one), or reads it with --password-stdin",
    )
    .option("--password-stdin", "read the password from the first line of standard input")
    .action(async function createUserCommand(name: string, options: PasswordOptions) {
      const password = await choosePassword(options);
      await withRuntime(async (ctx) => {
        const created = await createUser(ctx, {
          username: name,
          ...(password !== undefined ? { password } : {}),
        });
        process.stdout.write(`Created the user "${created.user.username}".\n`);
        if (password === undefined) printGenerated(created.password);
      });
    });

  users
    .command("reset-password <name>")
    .description("Set a new password for a user (and log them out everywhere)")
    .option("--password-stdin", "read the password from the first line of standard input")
    .action(async function resetPasswordCommand(name: string, options: PasswordOptions) {
      const password = await choosePassword(options);
      await withRuntime(async (ctx) => {
        const reset = await resetPassword(ctx, {
          username: name,
          ...(password !== undefined ? { password } : {}),
        });
        process.stdout.write(
          `Changed the password of "${reset.user.username}"; their sessions were ended and their ${reset.revokedTokens} API token${reset.revokedTokens === 1 ? " was" : "s were"} revoked.\n`,
        );
        if (password === undefined) printGenerated(reset.password);
      });
    });

  users
    .command("list")
    .description("List the users")
    .action(async function listUsersCommand() {
      await withRuntime(async (ctx) => {
        for (const user of await listUsers(ctx)) {
          process.stdout.write(`${user.username}\t(created ${user.createdAt.toISOString()})\n`);
        }
      });
    });
}

async function withRuntime(
  work: (ctx: Awaited<ReturnType<typeof openRuntime>>["ctx"]) => Promise<void>,
): Promise<void> {
  const runtime = await openRuntime(loadConfig());
  try {
    await work(runtime.ctx);
  } finally {
    await runtime.close();
  }
}

function printGenerated(password: string): void {
  process.stdout.write(`\nIts password is\n\n    ${password}\n\nIt is shown only this once.\n`);
}

/** The password to set, or undefined to have one generated. */
async function choosePassword(options: PasswordOptions): Promise<string | undefined> {
  if (options.passwordStdin) {
    const line = (await readAll(process.stdin)).split(/\r?\n/)[0] ?? "";
    if (line === "") throw new Error("--password-stdin was given but standard input was empty.");
    return line;
  }
  if (!process.stdin.isTTY) return undefined;
  const first = await promptHidden("Password (leave empty to generate one): ");
  if (first === "") return undefined;
  const second = await promptHidden("Repeat the password: ");
  if (first !== second) throw new Error("The two passwords differ; nothing was changed.");
  return first;
}

async function readAll(stream: NodeJS.ReadStream): Promise<string> {
  let text = "";
  stream.setEncoding("utf8");
  for await (const chunk of stream) text += chunk as string;
  return text;
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const input = process.stdin;
    process.stdout.write(question);
    input.setRawMode(true);
    input.setEncoding("utf8");
    input.resume();
    let value = "";
    function finish(error?: Error) {
      input.setRawMode(false);
      input.pause();
      input.off("data", onData);
      process.stdout.write("\n");
      if (error) reject(error);
      else resolve(value);
    }
    function onData(data: string) {
      for (const character of data) {
        if (character === "\r" || character === "\n") return finish();
        if (character === "\u0003") return finish(new Error("Cancelled."));
        if (character === "\u007f" || character === "\b") value = value.slice(0, -1);
        else value += character;
      }
    }
    input.on("data", onData);
  });
}
