import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ParsedEvent } from "../src/engines/imapsync/parser.ts";
import type { OutputStream, RunEngineOptions, RunEngineResult } from "../src/engines/run-engine.ts";
import { createLineSplitter, runEngine } from "../src/engines/run-engine.ts";
import { IMAPSYNC_FIXTURES } from "./support/imapsync-fixtures.ts";
import { isProcessAlive } from "./support/process-alive.ts";

/*
 * The runner's process handling, driven with small real Node programs standing in for an engine's
 * behaviour (output in odd chunks, ignoring SIGTERM, leaving a grandchild behind). The engines
 * themselves are driven in engines-migration.test.ts.
 */

const PASSWORD1 = "pw-source-Ünïcode-1";
const PASSWORD2 = "pw-destination-2";
const mailboxes = {
  source: { user: "alice@old.example", host: "imap.old.example" },
  destination: { user: "alice@new.example", host: "imap.new.example" },
};

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "imapferry-runner-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function script(name: string, source: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, source);
  return file;
}

/** Runs a stand-in engine script with this Node binary, for the mailboxes above. */
function runScript(engine: string, options: Partial<RunEngineOptions> = {}): Promise<RunEngineResult> {
  return runEngine({ bin: process.execPath, args: [engine], env: {}, mailboxes, ...options });
}

interface Captured {
  lines: { line: string; stream: OutputStream }[];
  events: ParsedEvent[];
  pid?: number;
}

function capture(): Captured & Pick<RunEngineOptions, "onLine" | "onEvent" | "onSpawn"> {
  const captured: Captured = { lines: [], events: [] };
  return Object.assign(captured, {
    onLine: (line: string, stream: OutputStream) => captured.lines.push({ line, stream }),
    onEvent: (event: ParsedEvent) => captured.events.push(event),
    onSpawn: (pid: number) => {
      captured.pid = pid;
    },
  });
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("createLineSplitter", () => {
  it("reassembles UTF-8 characters and lines cut between chunks, CRLF and a last line without newline", () => {
    const lines: string[] = [];
    const splitter = createLineSplitter((l) => lines.push(l));
    const bytes = Buffer.from("Folder 1/2 [Entwürfe]\r\nmsg Ω/1\n\nlast", "utf8");
    for (let i = 0; i < bytes.length; i++) splitter.write(bytes.subarray(i, i + 1));
    splitter.end();
    expect(lines).toEqual(["Folder 1/2 [Entwürfe]", "msg Ω/1", "", "last"]);
  });
});

describe("runEngine", () => {
  it("streams stdout and stderr lines to onLine and parsed events to onEvent, and returns the statistics", async () => {
    const fixture = path.join(IMAPSYNC_FIXTURES, "alice-real.log");
    const engine = await script(
      "replay.mjs",
      `import { readFileSync } from "node:fs";
       const text = readFileSync(${JSON.stringify(fixture)});
       // Odd chunk sizes, so lines and UTF-8 characters arrive cut in pieces.
       for (let i = 0; i < text.length; i += 7) process.stdout.write(text.subarray(i, i + 7));
       process.stderr.write("a warning on stderr\\n");`,
    );
    const c = capture();
    const result = await runScript(engine, c);
    expect(result).toMatchObject({
      exitCode: 0,
      signal: null,
      cancelled: false,
      category: "ok",
      name: "EX_OK",
    });
    expect(result.stats).toMatchObject({ messagesTransferred: 15, messagesSkipped: 33 });
    const stdoutLines = c.lines.filter((l) => l.stream === "stdout").map((l) => l.line);
    const want = (await import("node:fs")).readFileSync(fixture, "utf8").split("\n");
    if (want[want.length - 1] === "") want.pop();
    expect(stdoutLines).toEqual(want.map((l) => l.replace(/\r$/, "")));
    expect(c.lines).toContainEqual({ line: "a warning on stderr", stream: "stderr" });
    expect(c.events.filter((e) => e.type === "message" && e.action === "copied")).toHaveLength(15);
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it("gives the child the passwords in its environment only, and nothing else from this process", async () => {
    process.env.IMAPFERRY_RUNNER_TEST_SECRET = "must-not-leak";
    try {
      const engine = await script(
        "env.mjs",
        `import { createHash } from "node:crypto";
         const h = (v) => v === undefined ? "unset" : createHash("sha256").update(v).digest("hex");
         console.log("p1 " + h(process.env.IMAPSYNC_PASSWORD1));
         console.log("p2 " + h(process.env.IMAPSYNC_PASSWORD2));
         console.log("leak " + (process.env.IMAPFERRY_RUNNER_TEST_SECRET ?? "unset"));
         console.log("lang " + process.env.LANG);`,
      );
      const c = capture();
      await runScript(engine, {
        env: { IMAPSYNC_PASSWORD1: PASSWORD1, IMAPSYNC_PASSWORD2: PASSWORD2 },
        ...c,
      });
      const sha = (v: string) => createHash("sha256").update(v).digest("hex");
      expect(c.lines.map((l) => l.line)).toEqual([
        `p1 ${sha(PASSWORD1)}`,
        `p2 ${sha(PASSWORD2)}`,
        "leak unset",
        "lang C.UTF-8",
      ]);
    } finally {
      delete process.env.IMAPFERRY_RUNNER_TEST_SECRET;
    }
  });

  it("scrubs a password the engine or a server echoes back from every line", async () => {
    const engine = await script(
      "echo.mjs",
      `console.log("Host1 failure: server said NO [" + process.env.IMAPSYNC_PASSWORD1 + "] is wrong");
       process.stderr.write("debug " + process.env.IMAPSYNC_PASSWORD2 + process.env.IMAPSYNC_PASSWORD2 + "\\n");`,
    );
    const c = capture();
    await runScript(engine, { env: { IMAPSYNC_PASSWORD1: PASSWORD1, IMAPSYNC_PASSWORD2: PASSWORD2 }, ...c });
    expect(c.lines).toEqual([
      { line: "Host1 failure: server said NO [[redacted]] is wrong", stream: "stdout" },
      { line: "debug [redacted][redacted]", stream: "stderr" },
    ]);
    expect(c.events).toContainEqual({
      type: "failure",
      side: "source",
      message: "server said NO [[redacted]] is wrong",
    });
  });

  it("maps the exit code and the output to a category and a sentence (authfail: 161)", async () => {
    const engine = await script(
      "authfail.mjs",
      `import { readFileSync } from "node:fs";
       process.stdout.write(readFileSync(${JSON.stringify(path.join(IMAPSYNC_FIXTURES, "authfail.log"))}));
       process.exitCode = 161;`,
    );
    const result = await runScript(engine);
    expect(result).toMatchObject({
      exitCode: 161,
      category: "source-auth",
      name: "EXIT_AUTHENTICATION_FAILURE_USER1",
      sentence: "The source server rejected the password for alice@old.example.",
      stats: null,
    });
    expect(result.errors).toEqual([
      "Host1 failure: Error login on [127.0.0.1] with user [alice] auth [LOGIN]: 4 NO [AUTHENTICATIONFAILED] Authentication failed.",
    ]);
  });

  it("cancels like imapsync: SIGTERM, the engine prints its statistics and dies by the signal — reported as cancelled", async () => {
    const fixture = path.join(IMAPSYNC_FIXTURES, "bob-cancel.log");
    const engine = await script(
      "term.mjs",
      `import { readFileSync } from "node:fs";
       const text = readFileSync(${JSON.stringify(fixture)}, "utf8");
       const cut = text.indexOf("Got a signal TERM");
       // Like imapsync, the handler is in place before any output.
       process.on("SIGTERM", () => {
         process.stdout.write(text.slice(cut), () => {
           process.removeAllListeners("SIGTERM");
           process.kill(process.pid, "SIGTERM");
         });
       });
       const firstMessage = text.indexOf("\\nmsg ");
       process.stdout.write(text.slice(0, text.indexOf("\\n", firstMessage + 1) + 1));
       setInterval(() => {}, 1000);`,
    );
    const controller = new AbortController();
    const c = capture();
    const running = runScript(engine, {
      signal: controller.signal,
      ...c,
      onLine(line, stream) {
        c.onLine?.(line, stream);
        if (line.startsWith("msg ")) controller.abort();
      },
    });
    const result = await running;
    expect(result).toMatchObject({
      exitCode: null,
      signal: "SIGTERM",
      cancelled: true,
      category: "cancelled",
    });
    expect(result.stats).toMatchObject({ messagesTransferred: 719 });
    expect(result.sentence).toContain("was cancelled");
  });

  it("escalates to SIGKILL after the grace period, for the engine and everything in its process group", async () => {
    const grandchildPidFile = path.join(dir, "grandchild.pid");
    const engine = await script(
      "stubborn.mjs",
      `import { spawn } from "node:child_process";
       import { writeFileSync } from "node:fs";
       const grandchild = spawn(process.execPath, ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: "ignore" });
       writeFileSync(${JSON.stringify(grandchildPidFile)}, String(grandchild.pid));
       process.on("SIGTERM", () => console.log("ignoring SIGTERM"));
       console.log("started");
       setInterval(() => {}, 1000);`,
    );
    const controller = new AbortController();
    const c = capture();
    const running = runScript(engine, { signal: controller.signal, cancelGraceMs: 500, ...c });
    await waitFor(() => c.lines.some((l) => l.line === "started"), "the engine to start");
    const grandchildPid = Number((await import("node:fs")).readFileSync(grandchildPidFile, "utf8"));
    expect(isProcessAlive(grandchildPid)).toBe(true);
    controller.abort();
    const result = await running;
    expect(result).toMatchObject({ signal: "SIGKILL", cancelled: true, category: "cancelled" });
    expect(c.lines.map((l) => l.line)).toContain("ignoring SIGTERM");
    await waitFor(() => !isProcessAlive(grandchildPid), "the grandchild to be gone");
  });

  it("stops a running engine when the process that started it exits", async () => {
    const enginePidFile = path.join(dir, "engine.pid");
    const engine = await script(
      "long.mjs",
      `import { writeFileSync } from "node:fs";
       writeFileSync(${JSON.stringify(enginePidFile)}, String(process.pid));
       setInterval(() => {}, 1000);`,
    );
    const runner = fileURLToPath(new URL("../src/engines/run-engine.ts", import.meta.url));
    // A stand-in worker: starts the engine through the runner, then exits while it runs.
    const worker = await script(
      "worker.mts",
      `import { existsSync } from "node:fs";
       import { runEngine } from ${JSON.stringify(runner)};
       void runEngine({ bin: process.execPath, args: [${JSON.stringify(engine)}], env: {}, mailboxes: ${JSON.stringify(mailboxes)} });
       const wait = setInterval(() => { if (existsSync(${JSON.stringify(enginePidFile)})) { clearInterval(wait); process.exit(0); } }, 20);`,
    );
    const { createRequire } = await import("node:module");
    const tsx = createRequire(import.meta.url).resolve("tsx");
    const result = await runEngine({
      bin: process.execPath,
      args: ["--import", tsx, worker],
      env: {},
      mailboxes,
    });
    expect(result.exitCode).toBe(0);
    const enginePid = Number((await import("node:fs")).readFileSync(enginePidFile, "utf8"));
    await waitFor(() => !isProcessAlive(enginePid), "the orphaned engine to stop");
  });

  it("reports a signal death it did not ask for as a crash, not a cancel", async () => {
    const engine = await script("crash.mjs", `console.log("working"); process.kill(process.pid, "SIGKILL");`);
    const result = await runScript(engine);
    expect(result).toMatchObject({ exitCode: null, signal: "SIGKILL", cancelled: false, category: "signal" });
    expect(result.sentence).toContain("killed by SIGKILL");
  });

  it("does not start when already cancelled, and rejects with CONFIG when the engine cannot be started", async () => {
    const controller = new AbortController();
    controller.abort();
    const c = capture();
    const result = await runEngine({
      bin: "/nonexistent/imapsync",
      args: [],
      env: {},
      mailboxes,
      signal: controller.signal,
      ...c,
    });
    expect(result).toMatchObject({ cancelled: true, category: "cancelled", exitCode: null });
    expect(c.pid).toBeUndefined();

    await expect(
      runEngine({ bin: "/nonexistent/imapsync", args: [], env: {}, mailboxes }),
    ).rejects.toMatchObject({
      code: "CONFIG",
      message: "The migration engine /nonexistent/imapsync could not be started: it was not found.",
    });
  });

  it("leaves no file behind in its working directory", async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), "imapferry-runner-cwd-"));
    try {
      const engine = await script("quiet.mjs", `console.log("hello");`);
      await runScript(engine, { env: { IMAPSYNC_PASSWORD1: PASSWORD1 }, cwd });
      expect(await readdir(cwd)).toEqual([]);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
