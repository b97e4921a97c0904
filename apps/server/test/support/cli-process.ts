import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";

/** The built CLI, as an operator runs it (turbo builds it before the tests). */
export const CLI_PATH = path.resolve(import.meta.dirname, "../../dist/cli.js");

export interface CliProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the text once `pattern` appears in stdout+stderr; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<string>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Signals the process's whole group, as Ctrl-C in a terminal does (needs `ownProcessGroup`). */
  stopGroup(signal: NodeJS.Signals): Promise<number | null>;
}

export function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  options: { ownProcessGroup?: boolean } = {},
): CliProcess {
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    // The group leader, like a terminal's foreground job: a group signal reaches what it spawned too.
    detached: options.ownProcessGroup ?? false,
  });
  let text = "";
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    text += d.toString("utf8");
    for (const w of waiters) w();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    output: () => text,
    exited,
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(text);
          if (match) {
            waiters.delete(check);
            resolve(match[0]);
          }
        };
        waiters.add(check);
        check();
        exited.then((code) => {
          if (waiters.has(check)) {
            waiters.delete(check);
            reject(new Error(`imapferry exited (${code}) before printing ${pattern}:\n${text}`));
          }
        });
      });
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    async stopGroup(signal) {
      if (!options.ownProcessGroup) throw new Error("stopGroup needs runCli(…, { ownProcessGroup: true })");
      if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(-child.pid, signal);
      return exited;
    },
  };
}
