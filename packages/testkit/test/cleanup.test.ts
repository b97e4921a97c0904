import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isPortRefused } from "./support/port-probe.ts";

const fixture = fileURLToPath(new URL("./fixtures/abandon-server.ts", import.meta.url));

/** Polls until the condition holds, failing after the deadline. */
async function eventually(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function abandonServer(mode: "exit" | "hang") {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, mode], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) resolve(out.split("\n")[0] ?? "");
    });
    child.once("exit", (code) => reject(new Error(`fixture exited with ${code} before starting Dovecot`)));
  });
  return { child, ...(JSON.parse(line) as { port: number; rootDir: string }) };
}

describe("an abandoned Dovecot", () => {
  it("goes away with its temp dir when the test process exits without stop()", async () => {
    const { port, rootDir } = await abandonServer("exit");
    await eventually(() => isPortRefused(port), "the port is closed");
    await eventually(() => !existsSync(rootDir), "the temp dir is removed");
  });

  it("goes away with its temp dir when the test process is killed with SIGKILL", async () => {
    const { child, port, rootDir } = await abandonServer("hang");
    expect(await isPortRefused(port)).toBe(false);
    child.kill("SIGKILL");
    await eventually(() => isPortRefused(port), "the port is closed");
    await eventually(() => !existsSync(rootDir), "the temp dir is removed");
  });
});
