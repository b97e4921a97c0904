import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { findFreePort, findRunningEmbeddedDatabase, openDatabase } from "@imapferry/db";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./support/cli-process.ts";

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "imapferry-cli-"));
  tempDirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

/** An operator's mistake is one line on stderr, no stack trace, and a non-zero exit. */
function expectOneLineError(output: string, pattern: RegExp): void {
  const lines = output
    .trim()
    .split("\n")
    .filter((l) => !l.startsWith("{"));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(output).not.toMatch(/\n\s+at /);
}

describe("imapferry start with bad input", () => {
  it("names the host and port of an unreachable DATABASE_URL", async () => {
    const port = await findFreePort();
    const cli = runCli(["start"], {
      DATABASE_URL: `postgres://imapferry:s3cret-pw@127.0.0.1:${port}/imapferry`,
      IMAPFERRY_DATA_DIR: await tempDir(),
    });
    expect(await cli.exited).not.toBe(0);
    expectOneLineError(
      cli.output(),
      new RegExp(`DATABASE_URL points to 127\\.0\\.0\\.1:${port}.*refused the connection`),
    );
    expect(cli.output()).not.toContain("s3cret-pw");
  });

  it("says which data directory is not writable", async () => {
    const file = path.join(await tempDir(), "plain-file");
    await writeFile(file, "");
    const cli = runCli(["start"], { IMAPFERRY_DATA_DIR: path.join(file, "data") });
    expect(await cli.exited).not.toBe(0);
    expectOneLineError(cli.output(), /data directory .*plain-file\/data is not writable/);
  });

  it("says the port is in use", async () => {
    const blocker: Server = createServer();
    const port = await findFreePort();
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    try {
      const cli = runCli(["start", "--port", String(port)], { IMAPFERRY_DATA_DIR: await tempDir() });
      expect(await cli.exited).not.toBe(0);
      expectOneLineError(cli.output(), new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      blocker.close();
    }
  });

  it("rejects an invalid environment variable by name", async () => {
    const cli = runCli(["start"], { PORT: "eighty", IMAPFERRY_DATA_DIR: await tempDir() });
    expect(await cli.exited).not.toBe(0);
    expectOneLineError(cli.output(), /Environment variable PORT is invalid/);
  });

  it("refuses a bad IMAPFERRY_DENY_HOSTS entry, naming it", async () => {
    const cli = runCli(["start"], {
      IMAPFERRY_DENY_HOSTS: "private, 10.0.0.0/33",
      IMAPFERRY_DATA_DIR: await tempDir(),
    });
    expect(await cli.exited).not.toBe(0);
    expectOneLineError(
      cli.output(),
      /^imapferry: Environment variable IMAPFERRY_DENY_HOSTS is invalid: "10\.0\.0\.0\/33" has an invalid prefix length \(entries are addresses, CIDR ranges such as 10\.0\.0\.0\/8, or "private"\)\.$/,
    );
  });
});

describe("imapferry start on the embedded default", () => {
  it("serves health, prints the admin password once, stops cleanly and keeps its data", async () => {
    const dataDir = await tempDir();
    const port = await findFreePort();
    const env = { IMAPFERRY_DATA_DIR: dataDir, PORT: String(port) };

    const first = runCli(["start"], env);
    await first.waitFor(/imapferry is running/);
    expect(first.output()).toMatch(/created the user "admin" with the password/);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    // Without credentials /healthz gives only states and a count (the report needs a login).
    expect(await health.json()).toEqual({ status: "ok", database: "ok", workers: 1, degraded: false });
    expect(await first.stop("SIGTERM")).toBe(0);

    const second = runCli(["start"], env);
    await second.waitFor(/imapferry is running/);
    expect(second.output()).not.toMatch(/created the user "admin"/);
    expect(await second.stop("SIGINT")).toBe(0);
  });
});

describe("imapferry start in a terminal", () => {
  it("stops cleanly on Ctrl-C, which signals its embedded PostgreSQL's process group too", async () => {
    const dataDir = await tempDir();
    const port = await findFreePort();
    const start = runCli(
      ["start"],
      { IMAPFERRY_DATA_DIR: dataDir, PORT: String(port) },
      { ownProcessGroup: true },
    );
    await start.waitFor(/imapferry is running/);
    expect(await start.stopGroup("SIGINT")).toBe(0);
    // PostgreSQL outlived the signal and was stopped last: nothing on the way down failed.
    const errors = start
      .output()
      .split("\n")
      .filter((line) => line.includes('"level":"error"') || /error while stopping/i.test(line));
    expect(errors).toEqual([]);
    expect(await findRunningEmbeddedDatabase(dataDir)).toBeNull();
  });
});

describe("imapferry worker", () => {
  it("needs DATABASE_URL or a running start on the same data directory", async () => {
    const cli = runCli(["worker"], { IMAPFERRY_DATA_DIR: await tempDir() });
    expect(await cli.exited).not.toBe(0);
    expectOneLineError(cli.output(), /Set DATABASE_URL, or run this next to a running `imapferry start`/);
  });

  it("joins the embedded database of a running start, registers, and drains on SIGTERM", async () => {
    const dataDir = await tempDir();
    const env = { IMAPFERRY_DATA_DIR: dataDir, PORT: String(await findFreePort()) };
    const server = runCli(["start", "--no-worker"], env);
    try {
      await server.waitFor(/imapferry is running/);
      const worker = runCli(["worker", "--pool", "big-customer", "--concurrency", "3"], env);
      const id = (await worker.waitFor(/imapferry worker (\S+) is running/)).split(" ")[2];
      const running = await findRunningEmbeddedDatabase(dataDir);
      const database = openDatabase(running!.connectionString);
      try {
        const row = await database.db
          .selectFrom("workers")
          .selectAll()
          .where("id", "=", id!)
          .executeTakeFirst();
        expect(row).toMatchObject({ pool: "big-customer", capacity: 3 });
      } finally {
        await database.close();
      }
      expect(await worker.stop("SIGTERM")).toBe(0);
      expect(worker.output()).toMatch(/draining \(0 running\)/);
    } finally {
      await server.stop();
    }
  });
});
