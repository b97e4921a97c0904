import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(import.meta.url);
/** The child script beside this module: TypeScript when run from source (through tsx), else built. */
const script = path.join(path.dirname(here), `tcp-proxy-process${path.extname(here)}`);

/** A TCP forwarder in a child process that a test can freeze (see tcp-proxy-process.ts). */
export interface TcpProxy {
  port: number;
  /** SIGSTOP: connections through it hang, without an error or a close. */
  freeze(): void;
  /** SIGCONT: what was waiting flows on. */
  thaw(): void;
  /** Kills it: open connections drop, new ones are refused until a proxy listens on the port again. */
  close(): Promise<void>;
}

/** `port`: listen on this one (to bring a stopped proxy back where its clients expect it). @defaultValue any */
export async function startTcpProxy(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
  const loader = script.endsWith(".ts") ? ["--import", createRequire(import.meta.url).resolve("tsx")] : [];
  const child: ChildProcess = spawn(process.execPath, [...loader, script], {
    env: {
      PATH: process.env.PATH,
      PROXY_TARGET_HOST: target.host,
      PROXY_TARGET_PORT: String(target.port),
      PROXY_PORT: String(port),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const listening = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", (line) => {
      resolve((JSON.parse(line) as { port: number }).port);
    });
    void exited.then(() => reject(new Error("the TCP proxy exited before it listened")));
  });
  return {
    port: listening,
    freeze: () => child.kill("SIGSTOP"),
    thaw: () => child.kill("SIGCONT"),
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGCONT");
      child.kill("SIGKILL");
      await exited;
    },
  };
}
