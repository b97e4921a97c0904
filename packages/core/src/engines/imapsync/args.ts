import { ImapferryError } from "../../errors.ts";
import { wireLogin } from "../admin-login.ts";
import type { EngineOptions } from "../options.ts";
import { parseEngineOptions, SAFE_TEXT } from "../options.ts";
import type { EndpointSpec, EngineKind, MigrationSpec } from "../types.ts";

/**
 * Flags on every run: no network call home, no slow `--foldersizes` (the pre-flight counts instead), and
 * no LOG_imapsync/ files left in the worker's directory (the job log already captures all output).
 */
export const ALWAYS_ARGS = ["--noreleasecheck", "--nofoldersizes", "--nolog"] as const;

/** imapsync's own default for --reconnectretry1/2. */
const IMAPSYNC_RECONNECTS_PER_COMMAND = 3;

/** Flags that must never reach argv, whatever the input: they run code, rewrite mail, reveal or delete. */
export const FORBIDDEN_ARGS = [
  "--password1",
  "--password2",
  "--passfile1",
  "--passfile2",
  "--pipemess",
  "--regexmess",
  "--regextrans2",
  "--debugenv",
  "--showpasswords",
  "--delete1",
  "--delete",
] as const;

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9_])?)*\.?$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;

function invalid(path: string, message: string): never {
  throw new ImapferryError("BAD_INPUT", message, [{ path: path.split("."), message }]);
}

function checkEndpoint(endpoint: EndpointSpec, side: "source" | "destination"): void {
  if (!(HOSTNAME.test(endpoint.host) || (endpoint.host.includes(":") && IPV6.test(endpoint.host)))) {
    invalid(
      `${side}.host`,
      `The ${side} host "${endpoint.host.slice(0, 80)}" is not a host name or IP address.`,
    );
  }
  if (!Number.isInteger(endpoint.port) || endpoint.port < 1 || endpoint.port > 65535) {
    invalid(`${side}.port`, `The ${side} port must be a whole number from 1 to 65535.`);
  }
  if (endpoint.user.length === 0 || endpoint.user.length > 320 || !SAFE_TEXT.test(endpoint.user)) {
    invalid(
      `${side}.user`,
      `The ${side} login must be 1-320 characters, not start with '-', and have no control characters.`,
    );
  }
  if (endpoint.accessTokenFile !== undefined && !/^\/[^\0\n]+$/.test(endpoint.accessTokenFile)) {
    invalid(`${side}.accessTokenFile`, `The ${side} access token file must be an absolute path.`);
  }
  const admin = endpoint.admin;
  if (admin) {
    if (admin.login.length === 0 || admin.login.length > 320 || !SAFE_TEXT.test(admin.login)) {
      invalid(
        `${side}.admin.login`,
        `The ${side} server's admin login must be 1-320 characters, not start with '-', and have no control characters.`,
      );
    }
    if (admin.mode === "login-separator" && !/^[\x21-\x7e]{1,8}$/.test(admin.separator)) {
      invalid(
        `${side}.admin.separator`,
        `The ${side} server's admin separator must be 1-8 printable characters.`,
      );
    }
  }
}

/** Modified UTF-7 (RFC 3501 §5.1.3), the form imapsync expects folder names in on its command line. */
export function encodeImapFolderName(name: string): string {
  // All-ASCII names are taken as already in IMAP form: "Entw&APw-rfe" must not become "Entw&-APw-rfe".
  if (/^[\x20-\x7e]*$/.test(name)) return name;
  let out = "";
  let pending = "";
  const flush = () => {
    if (!pending) return;
    const utf16 = Buffer.alloc(pending.length * 2);
    for (let i = 0; i < pending.length; i++) utf16.writeUInt16BE(pending.charCodeAt(i), i * 2);
    out += `&${utf16.toString("base64").replace(/=+$/, "").replaceAll("/", ",")}-`;
    pending = "";
  };
  for (const ch of name) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0x20 && code <= 0x7e) {
      flush();
      out += ch === "&" ? "&-" : ch;
    } else {
      pending += ch;
    }
  }
  flush();
  return out;
}

/** Perl's quotemeta: the excluded name is matched literally, never as a pattern. */
function perlLiteral(text: string): string {
  return text.replace(/[^A-Za-z0-9_]/g, (c) => `\\${c}`);
}

function endpointArgs(endpoint: EndpointSpec, n: 1 | 2): string[] {
  const login = wireLogin(endpoint);
  const args = [`--host${n}`, endpoint.host, `--port${n}`, String(endpoint.port), `--user${n}`, login.user];
  // imapsync then authenticates with SASL PLAIN as the admin, authorized as --userN (its default
  // --authmechN with --authuserN); the admin's password travels like any password, in the environment.
  if (login.authUser !== undefined) args.push(`--authuser${n}`, login.authUser);
  // XOAUTH2 as --userN with the token in a file, never the token itself: argv is world-readable.
  // imapsync 2.229 reads the file's first line once per side, at its first login: its reconnects resend
  // that token (Mail::IMAPClient keeps the login closure), so the worker starts it with a fresh one and
  // a run whose token died resumes as a new process (see queue/oauth2-run.ts).
  if (endpoint.accessTokenFile !== undefined) args.push(`--oauthaccesstoken${n}`, endpoint.accessTokenFile);
  switch (endpoint.security) {
    case "tls":
      args.push(`--ssl${n}`);
      break;
    case "starttls":
      args.push(`--tls${n}`);
      break;
    case "none":
      // imapsync upgrades to STARTTLS by itself when offered; "none" means the operator chose plain IMAP.
      args.push(`--nossl${n}`, `--notls${n}`);
      break;
  }
  if (endpoint.security !== "none") {
    // imapsync does not verify certificates unless told to (its default is SSL_VERIFY_NONE), so we say
    // which one we want either way: verify, unless this server is marked "accept self-signed".
    args.push(`--sslargs${n}`, `SSL_verify_mode=${endpoint.acceptSelfSigned ? 0 : 1}`);
  }
  return args;
}

function optionArgs(o: EngineOptions, engine: EngineKind): string[] {
  const args: string[] = [];
  for (const folder of o.folders ?? []) args.push("--folder", encodeImapFolderName(folder));
  for (const folder of o.excludeFolders ?? [])
    args.push("--exclude", `^${perlLiteral(encodeImapFolderName(folder))}$`);
  for (const { from, to } of o.folderMap ?? []) {
    args.push("--f1f2", `${encodeImapFolderName(from)}=${encodeImapFolderName(to)}`);
  }
  if (o.destinationSubfolder !== undefined)
    args.push("--subfolder2", encodeImapFolderName(o.destinationSubfolder));
  if (o.automap) args.push("--automap");
  // For imapsync only: the built-in engine identifies header-less messages by content and copies
  // them unchanged (its own --addheader stays for running it by hand, as imapsync).
  if (o.addHeader && engine === "imapsync") args.push("--addheader");
  if (o.deleteOnDestination) args.push("--delete2");
  if (o.subscribedOnly) args.push("--subscribed");
  if (o.subscribeAll) args.push("--subscribeall");
  if (o.justFolders) args.push("--justfolders");
  if (o.skipEmptyFolders) args.push("--skipemptyfolders");
  if (o.skipSize) args.push("--skipsize");
  if (o.maxBytesPerSecond !== undefined) args.push("--maxbytespersecond", String(o.maxBytesPerSecond));
  if (o.maxMessagesPerSecond !== undefined)
    args.push("--maxmessagespersecond", String(o.maxMessagesPerSecond));
  if (o.maxMessageBytes !== undefined) args.push("--maxsize", String(o.maxMessageBytes));
  if (o.minMessageBytes !== undefined) args.push("--minsize", String(o.minMessageBytes));
  if (o.maxAgeDays !== undefined) args.push("--maxage", String(o.maxAgeDays));
  if (o.minAgeDays !== undefined) args.push("--minage", String(o.minAgeDays));
  if (o.errorsMax !== undefined) args.push("--errorsmax", String(o.errorsMax));
  if (o.timeoutSeconds !== undefined) {
    args.push("--timeout1", String(o.timeoutSeconds), "--timeout2", String(o.timeoutSeconds));
  }
  if (o.stopAfterBytes !== undefined) args.push("--exitwhenover", String(o.stopAfterBytes));
  if (o.sourcePreset) args.push(o.sourcePreset === "gmail" ? "--gmail1" : "--office1");
  if (o.destinationPreset) args.push(o.destinationPreset === "gmail" ? "--gmail2" : "--office2");
  return args;
}

/**
 * The engine's argv for a migration (imapsync and the built-in engine take the same one).
 * Passwords are not in it: they go in the environment (see `engineEnv`), since argv is world-readable in
 * /proc. Options are validated against the allow-list first; anything else is a BAD_INPUT error.
 */
export function buildImapsyncArgs(spec: MigrationSpec, engine: EngineKind = "imapsync"): string[] {
  checkEndpoint(spec.source, "source");
  checkEndpoint(spec.destination, "destination");
  const options = parseEngineOptions(spec.options);
  const args = [...endpointArgs(spec.source, 1), ...endpointArgs(spec.destination, 2)];
  if (spec.dryRun) args.push("--dry");
  if (spec.justLogin) args.push("--justlogin");
  else args.push(...optionArgs(options, engine));
  // imapsync has no such option: it holds one connection per side, within any cap.
  if (engine === "builtin" && spec.maxConnections !== undefined) {
    if (!Number.isInteger(spec.maxConnections) || spec.maxConnections < 1)
      throw new ImapferryError("INTERNAL", "The connection cap must be a whole number of at least 1.");
    args.push("--connections", String(spec.maxConnections));
  }
  if (spec.retriesLeft !== undefined) {
    if (!Number.isInteger(spec.retriesLeft) || spec.retriesLeft < 0)
      throw new ImapferryError("INTERNAL", "The retries left must be a whole number, 0 or more.");
    if (engine === "builtin") args.push("--retries", String(spec.retriesLeft));
    else {
      // imapsync reconnects up to N times per IMAP command (3 by default): never more than the job
      // has retries left. It reports how often it did; the worker counts that against the budget.
      const perCommand = String(Math.min(IMAPSYNC_RECONNECTS_PER_COMMAND, spec.retriesLeft));
      args.push("--reconnectretry1", perCommand, "--reconnectretry2", perCommand);
    }
  }
  args.push(...ALWAYS_ARGS);

  // Belt and braces: the builders above cannot produce these (no value may start with "-", so every
  // "--" element is a flag), and this keeps it that way.
  for (const forbidden of FORBIDDEN_ARGS) {
    if (args.includes(forbidden))
      throw new ImapferryError("INTERNAL", `Refusing to run the engine with ${forbidden}.`);
  }
  return args;
}

/**
 * imapsync ignores the password of a side that logs in with --oauthaccesstokenN but still insists on
 * having one (else it prompts); short enough that output redaction leaves it alone.
 */
const OAUTH2_PASSWORD_PLACEHOLDER = "x";

function passwordOf(endpoint: EndpointSpec): string {
  return endpoint.accessTokenFile !== undefined ? OAUTH2_PASSWORD_PLACEHOLDER : endpoint.password;
}

/** The passwords (a side's admin password where it logs in as the admin), for the child's environment only. */
export function engineEnv(spec: MigrationSpec): { IMAPSYNC_PASSWORD1: string; IMAPSYNC_PASSWORD2: string } {
  return { IMAPSYNC_PASSWORD1: passwordOf(spec.source), IMAPSYNC_PASSWORD2: passwordOf(spec.destination) };
}
