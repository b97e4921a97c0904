import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ServiceContext } from "@imapferry/core";
import { createSession, createVault, silentLogger, systemClock, verifyCredentials } from "@imapferry/core";
import type { TestDatabase } from "@imapferry/db/testing";
import { createTestDatabase } from "@imapferry/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CLI_SOURCE = path.resolve(import.meta.dirname, "../src/cli.ts");

/** Runs `imapferry <args>` from source as a real process, with `stdin` as its standard input. */
function imapferry(
  args: string[],
  env: Record<string, string>,
  stdin = "",
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", CLI_SOURCE, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("exit", (code) => resolve({ code, output }));
    child.stdin.end(stdin);
  });
}

describe("imapferry users", () => {
  let database: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;
  let ctx: ServiceContext;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), "imapferry-users-"));
    env = {
      DATABASE_URL: database.connectionString,
      IMAPFERRY_DATA_DIR: dataDir,
      IMAPFERRY_SECRET_KEY: randomBytes(32).toString("base64"),
      IMAPFERRY_ENGINE: "builtin",
    };
    ctx = {
      db: database.db,
      pool: database.pool,
      vault: createVault({ keys: { k: randomBytes(32) }, currentKeyId: "k" }),
      log: silentLogger,
      clock: systemClock,
    };
  });

  afterAll(async () => {
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("creates a user with a password read from stdin, never from argv", async () => {
    const result = await imapferry(
      ["users", "create", "bob", "--password-stdin"],
      env,
      "correct horse battery staple\n",
    );
    expect(result.output).toContain('Created the user "bob"');
    expect(result.output).not.toContain("correct horse");
    expect(result.code).toBe(0);
    expect(
      await verifyCredentials(ctx, { username: "bob", password: "correct horse battery staple" }),
    ).toMatchObject({
      username: "bob",
    });
  });

  it("generates a password when none is given and prints it once", async () => {
    const result = await imapferry(["users", "create", "carol"], env);
    expect(result.code).toBe(0);
    const password = /password is\n\n {4}(\S+)\n/.exec(result.output)?.[1];
    expect(password).toBeDefined();
    expect(await verifyCredentials(ctx, { username: "carol", password: password! })).not.toBeNull();
  });

  it("refuses a duplicate name and a too short password, with one line each", async () => {
    const duplicate = await imapferry(
      ["users", "create", "bob", "--password-stdin"],
      env,
      "another long password\n",
    );
    expect(duplicate.code).toBe(1);
    expect(duplicate.output).toContain('A user named "bob" already exists');
    const short = await imapferry(["users", "create", "dave", "--password-stdin"], env, "short\n");
    expect(short.code).toBe(1);
    expect(short.output).toContain("at least 12 characters");
    expect(short.output).not.toContain("short\n");
  });

  it("reset-password sets a new password and ends the user's sessions", async () => {
    const bob = await ctx.db
      .selectFrom("users")
      .select("id")
      .where("username", "=", "bob")
      .executeTakeFirstOrThrow();
    await createSession(ctx, bob.id);
    const result = await imapferry(["users", "reset-password", "bob"], env);
    expect(result.code).toBe(0);
    const password = /password is\n\n {4}(\S+)\n/.exec(result.output)?.[1];
    expect(await verifyCredentials(ctx, { username: "bob", password: password! })).not.toBeNull();
    expect(
      await verifyCredentials(ctx, { username: "bob", password: "correct horse battery staple" }),
    ).toBeNull();
    expect(
      await ctx.db.selectFrom("sessions").select("id_hash").where("user_id", "=", bob.id).execute(),
    ).toEqual([]);

    const missing = await imapferry(["users", "reset-password", "nobody"], env);
    expect(missing.code).toBe(1);
    expect(missing.output).toContain('There is no user named "nobody"');
  });
});
