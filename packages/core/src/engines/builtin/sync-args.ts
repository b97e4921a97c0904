import type { ParseArgsConfig } from "node:util";
import { parseArgs } from "node:util";

/** How one side is reached. `auto` is imapsync's default: STARTTLS when the server offers it. */
export type TransportSecurity = "tls" | "starttls" | "none" | "auto";

export interface SideArgs {
  host: string;
  port: number;
  /** `--userN`: the mailbox login (the authorization identity when `authUser` is set). */
  user: string;
  /**
   * `--authuserN`: authenticate as this admin on behalf of `user` with SASL PLAIN (the password is
   * then the admin's), as imapsync does.
   */
  authUser?: string;
  /**
   * `--oauthaccesstokenN FILE`: log in with XOAUTH2 / OAUTHBEARER, reading the token from the file's
   * first line at every (re)connect, so a token the worker renewed meanwhile is the one sent.
   */
  accessTokenFile?: string;
  security: TransportSecurity;
  /** Verify the server certificate. @defaultValue true; `--sslargsN SSL_verify_mode=0` turns it off. */
  verifyCertificate: boolean;
  /** Socket inactivity timeout in seconds (`--timeoutN`). @defaultValue 120, as imapsync */
  timeoutSeconds: number;
}

/** Everything imapferry-sync understood from its command line. Passwords are never part of it. */
export interface SyncArgs {
  host1: SideArgs;
  host2: SideArgs;
  dry: boolean;
  justLogin: boolean;
  justFolders: boolean;
  /** `--folder`: only these source folders (wire names or their Unicode form). */
  folders: string[];
  /** `--folderrec`: these folders and everything below them. */
  foldersRecursive: string[];
  includes: RegExp[];
  excludes: RegExp[];
  automap: boolean;
  /** `--f1f2 src=dst`: explicit folder mappings, by source wire name. */
  folderMappings: Map<string, string>;
  addHeader: boolean;
  maxBytesPerSecond: number | undefined;
  maxMessagesPerSecond: number | undefined;
  maxSize: number | undefined;
  minSize: number | undefined;
  maxAgeDays: number | undefined;
  minAgeDays: number | undefined;
  /** Stop with EXIT_WITH_ERRORS_MAX past this many errors. @defaultValue 50, as imapsync */
  errorsMax: number;
  /** `--subfolder2 X`: the whole source hierarchy goes under X on the destination. */
  destinationSubfolder: string | undefined;
  /** `--subscribed`: only folders the source user subscribed to. */
  subscribedOnly: boolean;
  /**
   * Subscribe on the destination to the folders subscribed on the source. @defaultValue true, as
   * imapsync; `--nosubscribe` turns it off
   */
  subscribe: boolean;
  /** `--subscribeall`: subscribe every folder synced on the destination. */
  subscribeAll: boolean;
  /** `--skipemptyfolders`: empty source folders are not created on the destination. */
  skipEmptyFolders: boolean;
  /** `--skipsize`: recognise messages by their headers alone, not headers and size. */
  skipSize: boolean;
  /**
   * `--delete2`: delete destination messages that are not on the source (folder by folder).
   * The source is never touched. @defaultValue false
   */
  deleteOnDestination: boolean;
  /**
   * Bring the flags of messages already on the destination in line with the source, as imapsync
   * does by default. @defaultValue true; `--noresyncflags` turns it off
   */
  resyncFlags: boolean;
  /** `--exitwhenover N`: stop once N bytes have been transferred (EXIT_TRANSFER_EXCEEDED). */
  exitWhenOver: number | undefined;
  /**
   * `--connections N` (imapferry-sync only; imapsync uses one per side): the most IMAP connections
   * the run opens to each account. Folders are copied in parallel over separate connection sets
   * within this cap (4 gives two folders at once with the pipelined appender); 1 copies them one
   * after another, without the appender. @defaultValue 4
   */
  connections: number;
  /**
   * `--statefd N` (imapferry-sync only): the file descriptor of the incremental sync state channel
   * (see state-channel.ts). Without it every folder gets the full comparison and no state is kept.
   */
  stateFd: number | undefined;
  /**
   * `--retries N` (imapferry-sync only): how many automatic retries the run may still spend on
   * waiting out a throttling server and on reconnecting (the job's retry budget, less what earlier
   * runs spent). Past it the run stops instead, and the job fails. @defaultValue unlimited (by hand)
   */
  retries: number | undefined;
  /** The command line as given (it never holds a password: those come from the environment). */
  commandLine: string[];
}

export class SyncUsageError extends Error {
  override readonly name = "SyncUsageError";
}

/*
 * The boolean flags understood, in imapsync's spelling. Some of them change nothing for this
 * engine (logging, release checks, imapsync's own caches and sizing) and are accepted and ignored,
 * so the imapsync argument builder can drive both engines. Options that would change mail in ways
 * this engine does not implement are refused with a usage error rather than silently ignored.
 */
const BOOLEAN_OPTIONS = [
  "noreleasecheck",
  "releasecheck",
  "nofoldersizes",
  "foldersizes",
  "nofoldersizesatend",
  "foldersizesatend",
  "nolog",
  "noid",
  "nosyncacls",
  "syncinternaldates",
  "nocheckselectable",
  "nocheckfoldersexist",
  "nochecknoabletosearch",
  "noresyncflags",
  "resyncflags",
  "noexpungesubscribed",
  "subscribe",
  "subscribeall",
  "nosubscribe",
  "noerrorsdump",
  "nomodulesversion",
  "no-modulesversion",
  "useuid",
  "usecache",
  "nousecache",
  "nokeepalive1",
  "nokeepalive2",
  "compress1",
  "compress2",
  "debug",
  "addheader",
  "dry",
  "justlogin",
  "justfolders",
  "automap",
  "ssl1",
  "ssl2",
  "tls1",
  "tls2",
  "nossl1",
  "nossl2",
  "notls1",
  "notls2",
  "subscribed",
  "delete2",
  "skipemptyfolders",
  "skipsize",
  "gmail1",
  "gmail2",
  "office1",
  "office2",
  "exchange1",
  "exchange2",
] as const;

/** Valued options accepted and ignored (imapsync's logging, pid file, temp dir, buffers, auth mechanisms). */
const IGNORED_STRING_OPTIONS = [
  "logdir",
  "logfile",
  "pidfile",
  "tmpdir",
  "split1",
  "split2",
  "buffersize",
  "authmech1",
  "authmech2",
  // imapsync's reconnections per command; this engine's own limit is --retries.
  "reconnectretry1",
  "reconnectretry2",
];

const REFUSED: Record<string, string> = {
  password1:
    "Passwords are read from IMAPSYNC_PASSWORD1 and IMAPSYNC_PASSWORD2 only, never from the command line.",
  password2:
    "Passwords are read from IMAPSYNC_PASSWORD1 and IMAPSYNC_PASSWORD2 only, never from the command line.",
  passfile1: "Passwords are read from IMAPSYNC_PASSWORD1 and IMAPSYNC_PASSWORD2 only.",
  passfile2: "Passwords are read from IMAPSYNC_PASSWORD1 and IMAPSYNC_PASSWORD2 only.",
  delete1: "--delete1 is refused: imapferry-sync never deletes anything on the source.",
  expunge1: "--expunge1 is refused: imapferry-sync never changes the source.",
  pipemess: "--pipemess is not supported by imapferry-sync.",
  regexmess: "--regexmess is not supported by imapferry-sync.",
  regextrans2: "--regextrans2 is not supported by imapferry-sync; use --f1f2 for folder mappings.",
};

function buildOptionsConfig(): NonNullable<ParseArgsConfig["options"]> {
  const options: NonNullable<ParseArgsConfig["options"]> = {
    host1: { type: "string" },
    host2: { type: "string" },
    port1: { type: "string" },
    port2: { type: "string" },
    user1: { type: "string" },
    user2: { type: "string" },
    authuser1: { type: "string" },
    authuser2: { type: "string" },
    oauthaccesstoken1: { type: "string" },
    oauthaccesstoken2: { type: "string" },
    sslargs1: { type: "string", multiple: true },
    sslargs2: { type: "string", multiple: true },
    timeout1: { type: "string" },
    timeout2: { type: "string" },
    timeout: { type: "string" },
    folder: { type: "string", multiple: true },
    folderrec: { type: "string", multiple: true },
    include: { type: "string", multiple: true },
    exclude: { type: "string", multiple: true },
    f1f2: { type: "string", multiple: true },
    maxbytespersecond: { type: "string" },
    maxmessagespersecond: { type: "string" },
    maxsize: { type: "string" },
    minsize: { type: "string" },
    maxage: { type: "string" },
    minage: { type: "string" },
    errorsmax: { type: "string" },
    connections: { type: "string" },
    statefd: { type: "string" },
    retries: { type: "string" },
    subfolder2: { type: "string" },
    exitwhenover: { type: "string" },
  };
  for (const name of BOOLEAN_OPTIONS) {
    options[name] = { type: "boolean" };
  }
  for (const name of IGNORED_STRING_OPTIONS) {
    options[name] = { type: "string" };
  }
  return options;
}

const OPTIONS = buildOptionsConfig();

type ParsedValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

function stringValue(values: ParsedValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

function stringList(values: ParsedValues, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

function flag(values: ParsedValues, name: string): boolean {
  return values[name] === true;
}

function positiveNumber(values: ParsedValues, name: string): number | undefined {
  const raw = stringValue(values, name);
  if (raw === undefined) {
    return undefined;
  }
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new SyncUsageError(`--${name} wants a non-negative number, got "${raw}".`);
  }
  return value;
}

function wholeNumber(values: ParsedValues, name: string): number | undefined {
  const value = positiveNumber(values, name);
  if (value !== undefined && !Number.isInteger(value)) {
    throw new SyncUsageError(`--${name} wants a whole number, got "${stringValue(values, name)}".`);
  }
  return value;
}

/** The state channel's descriptor: above stdio's 0–2, where the worker puts it. */
function parseStateFd(values: ParsedValues): number | undefined {
  const raw = stringValue(values, "statefd");
  if (raw === undefined) {
    return undefined;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 3 || value > 1024) {
    throw new SyncUsageError(`--statefd wants a file descriptor from 3 to 1024, got "${raw}".`);
  }
  return value;
}

/** Most connections per account; past a few, a server's per-user limit is the usual answer. */
const MAX_CONNECTIONS = 16;
/**
 * Two connection sets: on the bench corpus (2,000 messages in 6 folders, 2 cores) two folders at once
 * copied in 1.4–1.9 s where one at a time took 2.2–2.7 s, and stays within Dovecot's default of 10
 * connections per user and address and the big providers' limits (Gmail 15, Microsoft 20).
 */
const DEFAULT_CONNECTIONS = 4;

function parseConnections(values: ParsedValues): number {
  const raw = stringValue(values, "connections");
  if (raw === undefined) {
    return DEFAULT_CONNECTIONS;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > MAX_CONNECTIONS) {
    throw new SyncUsageError(
      `--connections wants a whole number from 1 to ${MAX_CONNECTIONS}, got "${raw}".`,
    );
  }
  return value;
}

function parsePort(values: ParsedValues, name: string): number | undefined {
  const raw = stringValue(values, name);
  if (raw === undefined) {
    return undefined;
  }
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SyncUsageError(`--${name} wants a TCP port (1-65535), got "${raw}".`);
  }
  return port;
}

function parseRegexes(values: ParsedValues, name: string): RegExp[] {
  return stringList(values, name).map(function compile(source) {
    try {
      return new RegExp(source);
    } catch {
      throw new SyncUsageError(`--${name} "${source}" is not a valid regular expression.`);
    }
  });
}

/** `--sslargsN SSL_verify_mode=0` is the one SSL argument with a meaning here; others are accepted. */
function verifyFromSslArgs(list: string[]): boolean {
  let verify = true;
  for (const item of list) {
    const match = /^SSL_verify_mode=(\w+)$/.exec(item.trim());
    if (match) {
      const mode = match[1];
      verify = !(mode === "0" || mode === "SSL_VERIFY_NONE");
    }
  }
  return verify;
}

interface Preset {
  host: string;
  port: number;
}

const PRESETS: Record<string, Preset> = {
  gmail: { host: "imap.gmail.com", port: 993 },
  office: { host: "outlook.office365.com", port: 993 },
  exchange: { host: "outlook.office365.com", port: 993 },
};

function parseSide(values: ParsedValues, side: 1 | 2): SideArgs {
  const preset = ["gmail", "office", "exchange"].find((name) => flag(values, `${name}${side}`));
  const presetValues = preset ? PRESETS[preset] : undefined;
  const host = stringValue(values, `host${side}`) ?? presetValues?.host;
  const user = stringValue(values, `user${side}`);
  const authUser = stringValue(values, `authuser${side}`);
  const accessTokenFile = stringValue(values, `oauthaccesstoken${side}`);
  if (accessTokenFile !== undefined && !accessTokenFile.startsWith("/")) {
    // A token itself is refused, not echoed: only a file path keeps it out of argv.
    throw new SyncUsageError(
      `--oauthaccesstoken${side} wants the absolute path of a file holding the token.`,
    );
  }
  if (authUser === "") {
    throw new SyncUsageError(`--authuser${side} wants the admin login.`);
  }
  if (!host) {
    throw new SyncUsageError(`--host${side} is required.`);
  }
  if (!user) {
    throw new SyncUsageError(`--user${side} is required.`);
  }
  let security: TransportSecurity = "auto";
  if (flag(values, `ssl${side}`) || presetValues) {
    security = "tls";
  } else if (flag(values, `tls${side}`)) {
    security = "starttls";
  } else if (flag(values, `notls${side}`)) {
    security = "none";
  }
  if (flag(values, `ssl${side}`) && flag(values, `tls${side}`)) {
    throw new SyncUsageError(`--ssl${side} and --tls${side} exclude each other.`);
  }
  const port = parsePort(values, `port${side}`) ?? presetValues?.port ?? (security === "tls" ? 993 : 143);
  const timeout = positiveNumber(values, `timeout${side}`) ?? positiveNumber(values, "timeout") ?? 120;
  return {
    host,
    port,
    user,
    ...(authUser !== undefined ? { authUser } : {}),
    ...(accessTokenFile !== undefined ? { accessTokenFile } : {}),
    security,
    verifyCertificate: verifyFromSslArgs(stringList(values, `sslargs${side}`)),
    timeoutSeconds: timeout,
  };
}

function parseMappings(list: string[]): Map<string, string> {
  const mappings = new Map<string, string>();
  for (const item of list) {
    const at = item.indexOf("=");
    if (at <= 0 || at === item.length - 1) {
      throw new SyncUsageError(`--f1f2 wants "source=destination", got "${item}".`);
    }
    mappings.set(item.slice(0, at), item.slice(at + 1));
  }
  return mappings;
}

/**
 * Parses imapferry-sync's command line: the subset of imapsync's options that imapferry's argument
 * builder emits, in imapsync's spelling. Throws SyncUsageError (exit 64) for anything unknown,
 * malformed or refused.
 */
export function parseSyncArgs(argv: string[]): SyncArgs {
  // Refused options are looked for before parsing, so each is refused with its reason (not as
  // "unknown") and its value, a password perhaps, is never echoed.
  for (const arg of argv) {
    const name = /^--([\w-]+)/.exec(arg)?.[1];
    const reason = name ? REFUSED[name] : undefined;
    if (reason) {
      throw new SyncUsageError(reason);
    }
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  } catch (e: unknown) {
    // node's messages quote the offending option, never an option's value.
    const message = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new SyncUsageError(message ?? "Invalid command line.");
  }
  const values = parsed.values as ParsedValues;
  const errorsMax = positiveNumber(values, "errorsmax");
  return {
    host1: parseSide(values, 1),
    host2: parseSide(values, 2),
    dry: flag(values, "dry"),
    justLogin: flag(values, "justlogin"),
    justFolders: flag(values, "justfolders"),
    folders: stringList(values, "folder"),
    foldersRecursive: stringList(values, "folderrec"),
    includes: parseRegexes(values, "include"),
    excludes: parseRegexes(values, "exclude"),
    automap: flag(values, "automap"),
    folderMappings: parseMappings(stringList(values, "f1f2")),
    addHeader: flag(values, "addheader"),
    maxBytesPerSecond: positiveNumber(values, "maxbytespersecond"),
    maxMessagesPerSecond: positiveNumber(values, "maxmessagespersecond"),
    maxSize: positiveNumber(values, "maxsize"),
    minSize: positiveNumber(values, "minsize"),
    maxAgeDays: positiveNumber(values, "maxage"),
    minAgeDays: positiveNumber(values, "minage"),
    errorsMax: errorsMax === undefined ? 50 : Math.floor(errorsMax),
    destinationSubfolder: stringValue(values, "subfolder2"),
    subscribedOnly: flag(values, "subscribed"),
    subscribeAll: flag(values, "subscribeall"),
    subscribe: !flag(values, "nosubscribe"),
    skipEmptyFolders: flag(values, "skipemptyfolders"),
    skipSize: flag(values, "skipsize"),
    deleteOnDestination: flag(values, "delete2"),
    resyncFlags: !flag(values, "noresyncflags"),
    exitWhenOver: positiveNumber(values, "exitwhenover"),
    connections: parseConnections(values),
    stateFd: parseStateFd(values),
    retries: wholeNumber(values, "retries"),
    commandLine: [...argv],
  };
}
