import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rename, rm, utimes, writeFile } from "node:fs/promises";
import { connect as connectTcp } from "node:net";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { connect as connectTls } from "node:tls";
import { promisify } from "node:util";
import type { ImapFlowOptions } from "imapflow";
import { ensureDovecot } from "./dovecot-binary.ts";
import { renderDovecotConfig, renderOAuth2PassdbConfig } from "./dovecot-config.ts";
import type { GeneratedMailbox } from "./generate.ts";
import { writeGeneratedMaildir } from "./maildir.ts";
import { freePort } from "./ports.ts";
import { maxConcurrentSessionsFromLog } from "./session-log.ts";

const execFileAsync = promisify(execFile);

/** How long a server may take to answer on both ports after spawn. */
const READY_DEADLINE_MS = 30_000;
/** How long stop() lets Dovecot shut down by itself before killing its process group. */
const STOP_DEADLINE_MS = 10_000;
const START_ATTEMPTS = 4;

export interface ImapCredentials {
  user: string;
  password: string;
}

export interface AddUserOptions {
  /** Storage quota; APPENDs beyond it fail with [OVERQUOTA]. @defaultValue no quota */
  quotaBytes?: number;
}

export interface StartImapServerOptions {
  /** Shows up in temp dir and process names, handy when several servers run. @defaultValue "imap" */
  name?: string;
  /**
   * Configure a master-user passdb (`addMasterUser`): a master logs in for any user with SASL PLAIN's
   * authorization identity, or as "user*master". @defaultValue false
   */
  masterUsers?: boolean;
  /**
   * Let XOAUTH2 / OAUTHBEARER logins in through an oauth2 passdb asking this RFC 7662 introspection
   * endpoint (a test's OAuth2 token server) whether a token is live. @defaultValue none
   */
  oauth2IntrospectionUrl?: string;
}

/** A running, throwaway Dovecot. Every path below lives in its own temp dir, removed by stop(). */
export interface ImapServer {
  readonly name: string;
  readonly host: "127.0.0.1";
  /** Plain IMAP (STARTTLS offered, plaintext LOGIN allowed). */
  readonly port: number;
  /** Implicit TLS with a self-signed certificate (see `certificatePem`). */
  readonly tlsPort: number;
  /** Dovecot's log: logins, logouts, errors. */
  readonly logPath: string;
  readonly configPath: string;
  readonly rootDir: string;
  /** The self-signed certificate, to trust it with `tls: { ca }` instead of `rejectUnauthorized: false`. */
  readonly certificatePem: string;
  /** Creates (or re-keys) a passwd-file user: an email address or a plain user name (`alice`). */
  addUser(user: string, password: string, options?: AddUserOptions): Promise<ImapCredentials>;
  /**
   * Creates (or re-keys) a master user, who may log in as any existing user. Needs the server started
   * with `masterUsers: true`.
   */
  addMasterUser(login: string, password: string): Promise<ImapCredentials>;
  /** The Maildir root of a user, as Dovecot stores it. */
  maildirPath(user: string): string;
  /** Options for `new ImapFlow(...)` against this server; `tls: true` uses the implicit-TLS port. */
  imapflowOptions(credentials: ImapCredentials, options?: { tls?: boolean }): ImapFlowOptions;
  /**
   * Highest number of IMAP sessions logged in at the same time, from the log: of `user`, or of all users
   * together when none is given (what a per-server connection limit is about). `endSlackMs`: see
   * maxConcurrentSessionsFromLog.
   */
  maxConcurrentSessions(user?: string, options?: { endSlackMs?: number }): Promise<number>;
  readLog(): Promise<string>;
  /** Writes generated messages straight into the user's Maildir and has Dovecot index them. */
  seedMaildir(user: string, mailbox: GeneratedMailbox): Promise<void>;
  /** Cuts every IMAP connection of `user` (doveadm kick), as a server restart or a network drop would. */
  kick(user: string): Promise<void>;
  /** Runs doveadm against this instance; returns stdout. */
  doveadm(args: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

export interface ImapPair {
  source: ImapServer;
  destination: ImapServer;
  stop(): Promise<void>;
}

interface MailOwner {
  uid: number;
  gid: number;
  internalUser: string;
  internalGroup: string;
  loginUser: string;
  chrootLogin: boolean;
}

interface RunningProcess {
  child: ChildProcess;
  rootDir: string;
}

/** Every live instance, so that a test process that exits without stop() still takes them down. */
const live = new Set<RunningProcess>();
let exitHookInstalled = false;

function killProcessGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    // The wrapper runs detached, so its pid is the process group of Dovecot and all its children.
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", function killDovecotsOnExit() {
    for (const running of live) {
      killProcessGroup(running.child);
      rmSync(running.rootDir, { recursive: true, force: true });
    }
    live.clear();
  });
}

function lookupId(file: string, name: string): number | undefined {
  const result = spawnSync("getent", [file, name], { encoding: "utf8" });
  if (result.status !== 0) return undefined;
  const id = Number(result.stdout.split(":")[2]);
  return Number.isInteger(id) ? id : undefined;
}

function mailOwner(): MailOwner {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) {
    // Unprivileged: everything runs as us, and login processes can not chroot.
    const me = userInfo();
    const group = spawnSync("id", ["-gn"], { encoding: "utf8" }).stdout.trim() || String(me.gid);
    return {
      uid: me.uid,
      gid: me.gid,
      internalUser: me.username,
      internalGroup: group,
      loginUser: me.username,
      chrootLogin: false,
    };
  }
  // Dovecot refuses uid 0 for mail; `nobody` exists on every Debian and owns nothing else of ours.
  const nobody = lookupId("passwd", "nobody") ?? 65534;
  const nogroup = lookupId("group", "nogroup") ?? lookupId("group", "nobody") ?? 65534;
  return {
    uid: nobody,
    gid: nogroup,
    internalUser: "dovecot",
    internalGroup: "dovecot",
    loginUser: lookupId("passwd", "dovenull") === undefined ? "dovecot" : "dovenull",
    chrootLogin: true,
  };
}

function hashPassword(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash("sha256").update(password).update(salt).digest();
  return `{SSHA256}${Buffer.concat([digest, salt]).toString("base64")}`;
}

function validateUser(user: string): void {
  if (!/^[A-Za-z0-9._%+-]+(@[A-Za-z0-9.-]+)?$/.test(user) || user.startsWith(".")) {
    throw new Error(
      `Test IMAP user ${JSON.stringify(user)} must be an email address or a plain user name (letters, digits, ._%+-).`,
    );
  }
}

async function makeCertificate(dir: string): Promise<{ certPath: string; keyPath: string }> {
  const certPath = path.join(dir, "cert.pem");
  const keyPath = path.join(dir, "key.pem");
  await execFileAsync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    certPath,
    "-days",
    "7",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
  ]);
  return { certPath, keyPath };
}

/** Resolves once the port answers with an IMAP greeting; retries connection errors until the deadline. */
async function waitForGreeting(port: number, tls: boolean, isDead: () => string | undefined): Promise<void> {
  const deadline = Date.now() + READY_DEADLINE_MS;
  for (;;) {
    const dead = isDead();
    if (dead !== undefined) throw new Error(dead);
    const greeted = await new Promise<boolean>((resolve) => {
      const socket = tls
        ? connectTls({ host: "127.0.0.1", port, rejectUnauthorized: false })
        : connectTcp({ host: "127.0.0.1", port });
      let received = "";
      const finish = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(2_000, () => finish(false));
      socket.on("data", function onGreetingData(chunk: Buffer) {
        received += chunk.toString("latin1");
        if (received.includes("\r\n")) finish(received.startsWith("* OK"));
      });
      socket.on("error", () => finish(false));
      socket.on("close", () => finish(false));
    });
    if (greeted) return;
    if (Date.now() > deadline) {
      throw new Error(`Dovecot did not greet on 127.0.0.1:${port} within ${READY_DEADLINE_MS} ms.`);
    }
    // Back off briefly before polling the port again.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Runs Dovecot in the foreground under a tiny shell watchdog. The watchdog's stdin is a pipe from this
// process: when it closes (stop(), or this process dying, even by SIGKILL) Dovecot gets SIGTERM, and once
// it is down the watchdog removes the temp dir, since nobody else may be left to do it. When Dovecot exits
// by itself (a startup failure) the caller is still there and keeps the dir for another attempt.
// Background jobs of a non-interactive shell get /dev/null as stdin, hence the explicit fd 3.
const WATCHDOG = `exec 3<&0
"$1" -F -c "$2" </dev/null &
dovecot_pid=$!
( cat <&3 >/dev/null; kill -TERM "$dovecot_pid" 2>/dev/null ) &
watcher_pid=$!
exec 3<&-
wait "$dovecot_pid"
status=$?
if kill -0 "$watcher_pid" 2>/dev/null; then
  kill "$watcher_pid" 2>/dev/null
else
  rm -rf "$3"
fi
exit "$status"`;

class DovecotServer implements ImapServer {
  readonly host = "127.0.0.1" as const;
  private readonly users = new Set<string>();
  private readonly masters = new Map<string, string>();
  private stopped: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly port: number,
    readonly tlsPort: number,
    readonly rootDir: string,
    readonly configPath: string,
    readonly logPath: string,
    readonly certificatePem: string,
    private readonly usersDir: string,
    private readonly owner: MailOwner,
    private readonly doveadmPath: string,
    private readonly running: RunningProcess,
    private readonly masterUsersPath: string | undefined,
  ) {}

  maildirPath(user: string): string {
    return path.join(this.homeOf(user), "Maildir");
  }

  private homeOf(user: string): string {
    return path.join(this.rootDir, "home", user);
  }

  async addUser(user: string, password: string, options: AddUserOptions = {}): Promise<ImapCredentials> {
    validateUser(user);
    if (/[\r\n:]/.test(password)) throw new Error("Test IMAP passwords can not contain ':' or line breaks.");
    const home = this.homeOf(user);
    await mkdir(home, { recursive: true });
    await chown(home, this.owner.uid, this.owner.gid);
    const file = path.join(this.usersDir, user);
    const extra =
      options.quotaBytes === undefined ? "" : `userdb_quota_rule=*:storage=${options.quotaBytes}B`;
    const line = `${user}:${hashPassword(password)}:${this.owner.uid}:${this.owner.gid}::${home}::${extra}\n`;
    const known = this.users.has(user);
    this.users.add(user);
    // A rename means Dovecot never reads half a file.
    const next = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    await writeFile(next, line, { mode: 0o644 });
    await rename(next, file);
    if (known) {
      // Dovecot checks a passwd-file for changes at most once per second (and by mtime in whole seconds):
      // give the new password a later mtime and let that second begin before anyone logs in with it.
      const nextSecond = Math.floor(Date.now() / 1000) + 1;
      await utimes(file, nextSecond, nextSecond);
      await new Promise((resolve) => setTimeout(resolve, nextSecond * 1000 - Date.now() + 5));
    }
    return { user, password };
  }

  async addMasterUser(login: string, password: string): Promise<ImapCredentials> {
    if (!this.masterUsersPath) {
      throw new Error(`addMasterUser: start ${this.name} with { masterUsers: true } first.`);
    }
    validateUser(login);
    if (/[\r\n:]/.test(password)) throw new Error("Test IMAP passwords can not contain ':' or line breaks.");
    const known = this.masters.has(login);
    this.masters.set(login, hashPassword(password));
    const text = [...this.masters].map(([name, hash]) => `${name}:${hash}\n`).join("");
    const next = `${this.masterUsersPath}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    await writeFile(next, text, { mode: 0o644 });
    await rename(next, this.masterUsersPath);
    // Dovecot notices a changed passwd-file by its mtime, in whole seconds (see addUser).
    const nextSecond = Math.floor(Date.now() / 1000) + 1;
    await utimes(this.masterUsersPath, nextSecond, nextSecond);
    if (known) await new Promise((resolve) => setTimeout(resolve, nextSecond * 1000 - Date.now() + 5));
    return { user: login, password };
  }

  imapflowOptions(credentials: ImapCredentials, options: { tls?: boolean } = {}): ImapFlowOptions {
    const tls = options.tls ?? false;
    return {
      host: this.host,
      port: tls ? this.tlsPort : this.port,
      secure: tls,
      auth: { user: credentials.user, pass: credentials.password },
      tls: { rejectUnauthorized: false },
      logger: false,
    };
  }

  async readLog(): Promise<string> {
    return readFile(this.logPath, "utf8").catch(() => "");
  }

  async maxConcurrentSessions(user?: string, options?: { endSlackMs?: number }): Promise<number> {
    return maxConcurrentSessionsFromLog(await this.readLog(), user, options);
  }

  async doveadm(args: readonly string[]): Promise<string> {
    const { stdout } = await execFileAsync(this.doveadmPath, ["-c", this.configPath, ...args], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  }

  async kick(user: string): Promise<void> {
    await this.doveadm(["kick", user]);
  }

  async seedMaildir(user: string, mailbox: GeneratedMailbox): Promise<void> {
    if (!this.users.has(user)) throw new Error(`seedMaildir: add ${user} with addUser() first.`);
    await writeGeneratedMaildir(this.maildirPath(user), mailbox, {
      uid: this.owner.uid,
      gid: this.owner.gid,
    });
    // Build the indexes now, so the first client does not pay for scanning thousands of files.
    await this.doveadm(["force-resync", "-u", user, "*"]);
  }

  stop(): Promise<void> {
    this.stopped ??= stopProcess(this.running);
    return this.stopped;
  }
}

async function stopProcess(running: RunningProcess): Promise<void> {
  const { child } = running;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.stdin?.end();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, STOP_DEADLINE_MS);
    });
    await Promise.race([exited, timedOut]);
    clearTimeout(timer);
  }
  // Whatever outlived the master (or the deadline) goes now.
  killProcessGroup(child);
  live.delete(running);
  await rm(running.rootDir, { recursive: true, force: true });
}

async function launch(
  name: string,
  rootDir: string,
  owner: MailOwner,
  binaries: { dovecot: string; doveadm: string },
  cert: { certPath: string; keyPath: string },
  withMasterUsers: boolean,
  oauth2IntrospectionUrl: string | undefined,
): Promise<DovecotServer> {
  const instance = `${name}-${randomBytes(4).toString("hex")}`;
  const baseDir = path.join(rootDir, "run", instance);
  const stateDir = path.join(rootDir, "state");
  const logPath = path.join(rootDir, "dovecot.log");
  const usersDir = path.join(rootDir, "users");
  const configPath = path.join(rootDir, "dovecot.conf");
  await mkdir(baseDir, { recursive: true });
  await mkdir(stateDir, { recursive: true });
  await mkdir(usersDir, { recursive: true, mode: 0o755 });
  // Beside the users dir, never in it: a user may not be named like the master file.
  const masterUsersPath = withMasterUsers ? path.join(rootDir, "masters", "passwd") : undefined;
  if (masterUsersPath) {
    await mkdir(path.dirname(masterUsersPath), { recursive: true, mode: 0o755 });
    await writeFile(masterUsersPath, "", { mode: 0o644 });
  }
  const oauth2ConfigPath = oauth2IntrospectionUrl ? path.join(rootDir, "dovecot-oauth2.conf.ext") : undefined;
  if (oauth2ConfigPath && oauth2IntrospectionUrl) {
    await writeFile(oauth2ConfigPath, renderOAuth2PassdbConfig(oauth2IntrospectionUrl), { mode: 0o644 });
  }
  const port = await freePort();
  let tlsPort = await freePort();
  while (tlsPort === port) tlsPort = await freePort();
  await writeFile(
    configPath,
    renderDovecotConfig({
      instanceName: instance,
      baseDir,
      stateDir,
      logPath,
      usersDir,
      certPath: cert.certPath,
      keyPath: cert.keyPath,
      port,
      tlsPort,
      internalUser: owner.internalUser,
      internalGroup: owner.internalGroup,
      loginUser: owner.loginUser,
      chrootLogin: owner.chrootLogin,
      ...(masterUsersPath ? { masterUsersPath } : {}),
      ...(oauth2ConfigPath ? { oauth2ConfigPath } : {}),
    }),
  );

  installExitHook();
  const child = spawn("sh", ["-c", WATCHDOG, `imapferry-${name}`, binaries.dovecot, configPath, rootDir], {
    detached: true,
    stdio: ["pipe", "ignore", "pipe"],
  });
  const running: RunningProcess = { child, rootDir };
  live.add(running);
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  // Neither the child nor its pipes may keep a finished test process alive; the exit hook covers them.
  child.unref();
  for (const stream of [child.stdin, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
  const isDead = () => {
    if (child.exitCode === null && child.signalCode === null) return undefined;
    return `Dovecot exited during startup: ${stderr.trim() || `code ${child.exitCode}`}`;
  };
  try {
    await waitForGreeting(port, false, isDead);
    await waitForGreeting(tlsPort, true, isDead);
  } catch (error: unknown) {
    const log = await readFile(logPath, "utf8").catch(() => "");
    await abandonLaunch(running);
    const detail = log
      .split("\n")
      .filter((line) => /Fatal|Error/.test(line))
      .slice(-3)
      .join(" | ");
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}${detail ? ` (${detail})` : ""}`,
    );
  }
  const certificatePem = await readFile(cert.certPath, "utf8");
  return new DovecotServer(
    name,
    port,
    tlsPort,
    rootDir,
    configPath,
    logPath,
    certificatePem,
    usersDir,
    owner,
    binaries.doveadm,
    running,
    masterUsersPath,
  );
}

/** Takes a server that never got ready down; the caller removes its dir or retries in a new one. */
async function abandonLaunch(running: RunningProcess): Promise<void> {
  running.child.stdin?.end();
  killProcessGroup(running.child);
  live.delete(running);
}

/**
 * Starts a real Dovecot on two free loopback ports (plain IMAP and implicit TLS) with a generated config,
 * a throwaway certificate and an empty passwd-file. Call stop() when done; a process exit kills it too.
 */
export async function startImapServer(options: StartImapServerOptions = {}): Promise<ImapServer> {
  const name = options.name ?? "imap";
  const binaries = ensureDovecot();
  const owner = mailOwner();
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const rootDir = await mkdtemp(path.join(tmpdir(), `imapferry-${name}-`));
    try {
      // Mail and auth processes run as other users and must reach the users file and homes below.
      await chmod(rootDir, 0o755);
      await mkdir(path.join(rootDir, "home"), { mode: 0o755 });
      await chown(path.join(rootDir, "home"), owner.uid, owner.gid);
      const cert = await makeCertificate(rootDir);
      return await launch(
        name,
        rootDir,
        owner,
        binaries,
        cert,
        options.masterUsers ?? false,
        options.oauth2IntrospectionUrl,
      );
    } catch (error: unknown) {
      lastError = error;
      await rm(rootDir, { recursive: true, force: true });
      // Only a port taken between picking and binding is worth another try.
      const message = error instanceof Error ? error.message : String(error);
      if (!/Address already in use|did not greet/.test(message)) break;
    }
  }
  throw lastError;
}

/** Two independent Dovecot servers: where a migration reads from, and where it writes to. */
export async function startImapPair(options: Omit<StartImapServerOptions, "name"> = {}): Promise<ImapPair> {
  const [source, destination] = await Promise.allSettled([
    startImapServer({ ...options, name: "source" }),
    startImapServer({ ...options, name: "destination" }),
  ]);
  if (source.status === "rejected" || destination.status === "rejected") {
    if (source.status === "fulfilled") await source.value.stop();
    if (destination.status === "fulfilled") await destination.value.stop();
    throw source.status === "rejected" ? source.reason : (destination as PromiseRejectedResult).reason;
  }
  return {
    source: source.value,
    destination: destination.value,
    async stop() {
      await Promise.all([source.value.stop(), destination.value.stop()]);
    },
  };
}
