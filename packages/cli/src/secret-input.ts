import { createInterface } from "node:readline";
import { CliError, EXIT } from "./exit-codes.ts";

/**
 * Asks for a password on the terminal without echoing it. Passwords never come from the command line
 * (every user of the machine can read argv); they come from the environment or from this prompt.
 */
export async function askHidden(question: string): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new CliError(
      EXIT.usage,
      `${question.replace(/:\s*$/, "")} is needed, but there is no terminal to ask on.`,
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // readline echoes through _writeToOutput; muting it after the question hides what is typed.
  const internal = rl as unknown as { _writeToOutput(text: string): void };
  let muted = false;
  const write = internal._writeToOutput.bind(rl);
  internal._writeToOutput = (text: string) => {
    if (!muted || text.includes("\n")) write(muted ? "\n" : text);
  };
  try {
    return await new Promise<string>((resolve) => {
      rl.question(question, resolve);
      muted = true;
    });
  } finally {
    rl.close();
  }
}
