import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { TestDatabase } from "@imapferry/db/testing";
import { createTestDatabase } from "@imapferry/db/testing";
import type { ImapPair } from "@imapferry/testkit";
import { seedMailbox, startImapPair } from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../src/index.ts";

const run = promisify(execFile);
const sdkRoot = path.resolve(import.meta.dirname, "..");
const repoRoot = path.resolve(sdkRoot, "../..");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const MAILBOXES = ["alice@customer.example", "bob@customer.example"];
const SOURCE_PASSWORD = "old-Provider-pass-1";
const DEST_PASSWORD = "new-Platform-pass-2";

/** Builds dist/ unless it is newer than every source file (turbo builds before tests in CI). */
async function ensureBuilt(): Promise<void> {
  const built = await stat(path.join(sdkRoot, "dist/index.d.ts")).catch(() => null);
  const sources = await readdir(path.join(sdkRoot, "src"));
  const newest = Math.max(
    ...(await Promise.all(sources.map(async (f) => (await stat(path.join(sdkRoot, "src", f))).mtimeMs))),
  );
  if (built && built.mtimeMs > newest) return;
  await run(process.execPath, [path.join(sdkRoot, "scripts/build.mjs")], {
    cwd: sdkRoot,
    maxBuffer: 16 * 1024 * 1024,
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** `imapferry start` from source, as an operator runs it; resolves once it says it is running. */
async function startImapferry(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; output: () => string }> {
  const cli = path.join(repoRoot, "apps/server/src/cli.ts");
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", cli, "start"], {
    cwd: path.join(repoRoot, "apps/server"),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout?.on("data", (d: Buffer) => (text += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (text += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (/imapferry is running/.test(text)) resolve();
    };
    child.stdout?.on("data", check);
    child.on("exit", (code) => reject(new Error(`imapferry start exited (${code}):\n${text}`)));
  });
  return { child, output: () => text };
}

describe("the packed SDK in a fresh project", () => {
  let work: string;
  let tarball: string;
  let project: string;

  beforeAll(async () => {
    await ensureBuilt();
    work = await mkdtemp(path.join(tmpdir(), "imapferry-sdk-pack-"));
    // pnpm pack, as `pnpm publish` would: it applies publishConfig (exports without the workspace-only
    // "source" condition) and turns workspace: versions into real ones.
    const { stdout } = await run("pnpm", ["pack", "--pack-destination", work, "--json"], { cwd: sdkRoot });
    const packed = JSON.parse(stdout) as { filename: string };
    tarball = path.resolve(work, packed.filename);
    project = path.join(work, "control-panel");
    await mkdir(project);
    await writeFile(
      path.join(project, "package.json"),
      JSON.stringify({ name: "control-panel", private: true, type: "module" }, null, 2),
    );
    await writeFile(
      path.join(project, "tsconfig.json"),
      JSON.stringify(
        {
          compilerOptions: {
            target: "ES2022",
            module: "NodeNext",
            moduleResolution: "NodeNext",
            lib: ["ES2023", "DOM"],
            types: ["node"],
            strict: true,
            noUncheckedIndexedAccess: true,
            outDir: "dist",
          },
          files: ["example.ts"],
        },
        null,
        2,
      ),
    );
    await copyFile(path.join(import.meta.dirname, "fixture/example.ts"), path.join(project, "example.ts"));
    await copyFile(
      path.join(import.meta.dirname, "fixture/type-error.ts"),
      path.join(project, "type-error.ts"),
    );
    // From the registry: the SDK's own dependencies and Node's types; nothing from this monorepo.
    await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball, "@types/node@20"], {
      cwd: project,
      maxBuffer: 16 * 1024 * 1024,
    });
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("contains the built ESM and one declaration file, no sources and no workspace references", async () => {
    const installed = path.join(project, "node_modules/@imapferry/sdk");
    const files = await readdir(path.join(installed, "dist"));
    expect(files).toContain("index.js");
    expect(files).toContain("index.d.ts");
    expect(await readdir(installed)).not.toContain("src");
    const declarations = await readFile(path.join(installed, "dist/index.d.ts"), "utf8");
    const imported = [...declarations.matchAll(/from ["']([^"']+)["']/g)].map((m) => m[1]);
    expect(new Set(imported)).toEqual(new Set(["@trpc/client", "@trpc/server"]));
    expect(declarations).not.toMatch(/@imapferry\/(server|core|db)/);
    // Workspace code the SDK runs (core's CSV columns) is copied into dist, not imported.
    for (const file of files.filter((f) => f.endsWith(".js"))) {
      const js = await readFile(path.join(installed, "dist", file), "utf8");
      expect(js, file).not.toMatch(/from ["']@imapferry\//);
    }
    const manifest = JSON.parse(await readFile(path.join(installed, "package.json"), "utf8")) as {
      private?: boolean;
      exports: Record<string, Record<string, string>>;
      dependencies: Record<string, string>;
    };
    expect(manifest.private).toBeUndefined();
    // Every export condition points at a file that ships.
    expect(manifest.exports["."]).toEqual({ types: "./dist/index.d.ts", default: "./dist/index.js" });
    expect(Object.values(manifest.dependencies).join(" ")).not.toContain("workspace:");
  });

  it("type-checks an example with tsc, and rejects a wrong use of the API", async () => {
    await run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: project });
    expect(await readdir(path.join(project, "dist"))).toContain("example.js");
    const wrong = await run(
      process.execPath,
      [
        tsc,
        "--noEmit",
        "--strict",
        "--module",
        "NodeNext",
        "--target",
        "ES2022",
        "--lib",
        "ES2023,DOM",
        "--types",
        "node",
        "type-error.ts",
      ],
      { cwd: project },
    ).then(
      () => "",
      (e: unknown) => String((e as { stdout?: string }).stdout),
    );
    expect(wrong).toMatch(/type-error\.ts\(5,\d+\): error TS2322/);
    expect(wrong).toMatch(/type-error\.ts\(6,\d+\): error TS2345/);
    expect(wrong).toMatch(/type-error\.ts\(8,\d+\): error TS2322/);
  });

  describe("against a live imapferry", () => {
    let database: TestDatabase;
    let imap: ImapPair;
    let server: { child: ChildProcess; output: () => string };
    let url: string;
    let dataDir: string;

    beforeAll(async () => {
      [database, imap] = await Promise.all([createTestDatabase(), startImapPair()]);
      for (const address of MAILBOXES) {
        await imap.source.addUser(address, SOURCE_PASSWORD);
        await imap.destination.addUser(address, DEST_PASSWORD);
        await seedMailbox(imap.source, address, SOURCE_PASSWORD, {
          folders: [
            {
              path: "INBOX",
              messages: Array.from({ length: 5 }, (_, i) => ({
                source: `From: a@old.example\r\nSubject: ${i}\r\nMessage-ID: <${i}.${address}>\r\n\r\nHello ${i}\r\n`,
              })),
            },
          ],
        });
      }
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      dataDir = await mkdtemp(path.join(tmpdir(), "imapferry-sdk-data-"));
      server = await startImapferry({
        DATABASE_URL: database.connectionString,
        IMAPFERRY_DATA_DIR: dataDir,
        IMAPFERRY_SECRET_KEY: randomBytes(32).toString("base64"),
        IMAPFERRY_ENGINE: "builtin",
        PORT: String(port),
        HOST: "127.0.0.1",
      });
    });

    afterAll(async () => {
      if (server && server.child.exitCode === null) {
        const exited = new Promise((resolve) => server.child.on("exit", resolve));
        server.child.kill("SIGTERM");
        await exited;
      }
      await imap?.stop();
      await database?.drop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    it("runs the compiled example: servers, a batch imported and waited for, a log followed", async () => {
      const adminPassword = /with the password\s+(\S+)/.exec(server.output())?.[1];
      expect(adminPassword).toBeDefined();
      // A control panel gets its token once, by logging in as a person would.
      let cookie = "";
      const panel = createClient({
        url,
        fetch: async (input, init) => {
          const headers = new Headers(init?.headers);
          if (cookie) headers.set("cookie", cookie);
          const response = await fetch(input, { ...init, headers });
          cookie = response.headers.get("set-cookie")?.split(";")[0] ?? cookie;
          return response;
        },
      });
      await panel.auth.login.mutate({ username: "admin", password: adminPassword! });
      const { token } = await panel.tokens.create.mutate({ name: "control panel" });

      const { stdout } = await run(process.execPath, ["dist/example.js"], {
        cwd: project,
        env: {
          PATH: process.env.PATH,
          IMAPFERRY_URL: url,
          IMAPFERRY_TOKEN: token,
          SOURCE_PORT: String(imap.source.port),
          DEST_PORT: String(imap.destination.port),
          MAILBOXES: MAILBOXES.join(","),
          SOURCE_PASSWORD,
          DEST_PASSWORD,
        },
      });
      const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
      expect(result).toMatchObject({
        health: "ok",
        jobCount: 2,
        counts: { done: 2, failed: 0, queued: 0, running: 0 },
        lastProgress: 2,
        logHasStatistics: true,
        notFound: "NOT_FOUND",
      });
      expect(result.logLength).toBe(result.logBytes);
    });
  });
});
