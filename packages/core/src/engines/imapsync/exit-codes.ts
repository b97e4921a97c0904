import type { Throttle } from "../throttle.ts";
/**
 * imapsync's exit codes (its EXIT_* / EX_* constants, 2.229), mapped to a category the job system stores
 * and one sentence an operator understands. The built-in engine exits with the same codes.
 */

export const EXIT_CATEGORIES = [
  "ok",
  "source-auth",
  "destination-auth",
  "auth",
  "source-connect",
  "destination-connect",
  "connect",
  "tls",
  "over-quota",
  "append",
  "fetch",
  "create",
  "select",
  "missing-folder",
  "errors",
  "errors-max",
  "transfer-limit",
  "virus",
  "flags",
  "signal",
  "throttled",
  "cancelled",
  "usage",
  "unknown",
] as const;
export type ExitCategory = (typeof EXIT_CATEGORIES)[number];

export interface ImapsyncExitCode {
  code: number;
  /** imapsync's constant name. */
  name: string;
  category: ExitCategory;
}

function entry(code: number, name: string, category: ExitCategory): [number, ImapsyncExitCode] {
  return [code, { code, name, category }];
}

/** Every exit code imapsync 2.229 defines. */
export const IMAPSYNC_EXIT_CODES: ReadonlyMap<number, ImapsyncExitCode> = new Map([
  entry(0, "EX_OK", "ok"),
  entry(1, "EXIT_CATCH_ALL", "unknown"),
  entry(6, "EXIT_BY_SIGNAL", "signal"),
  entry(7, "EXIT_BY_FILE", "signal"),
  entry(8, "EXIT_PID_FILE_ERROR", "usage"),
  entry(10, "EXIT_CONNECTION_FAILURE", "connect"),
  entry(101, "EXIT_CONNECTION_FAILURE_HOST1", "source-connect"),
  entry(102, "EXIT_CONNECTION_FAILURE_HOST2", "destination-connect"),
  entry(12, "EXIT_TLS_FAILURE", "tls"),
  entry(16, "EXIT_AUTHENTICATION_FAILURE", "auth"),
  entry(161, "EXIT_AUTHENTICATION_FAILURE_USER1", "source-auth"),
  entry(162, "EXIT_AUTHENTICATION_FAILURE_USER2", "destination-auth"),
  entry(21, "EXIT_SUBFOLDER1_NO_EXISTS", "missing-folder"),
  entry(64, "EX_USAGE", "usage"),
  entry(66, "EX_NOINPUT", "usage"),
  entry(69, "EX_UNAVAILABLE", "unknown"),
  entry(70, "EX_SOFTWARE", "unknown"),
  entry(111, "EXIT_WITH_ERRORS", "errors"),
  entry(112, "EXIT_WITH_ERRORS_MAX", "errors-max"),
  entry(113, "EXIT_OVERQUOTA", "over-quota"),
  entry(114, "EXIT_ERR_APPEND", "append"),
  entry(115, "EXIT_ERR_FETCH", "fetch"),
  entry(116, "EXIT_ERR_CREATE", "create"),
  entry(117, "EXIT_ERR_SELECT", "select"),
  entry(118, "EXIT_TRANSFER_EXCEEDED", "transfer-limit"),
  entry(119, "EXIT_ERR_APPEND_VIRUS", "virus"),
  entry(120, "EXIT_ERR_FLAGS", "flags"),
  entry(254, "EXIT_TESTS_FAILED", "unknown"),
]);

export interface MailboxRef {
  /** The mailbox login: an address, a user name, `DOMAIN\\user` … */
  user: string;
  host: string;
  /** The admin login the engine authenticated as on behalf of `user`, if it did. */
  admin?: string | undefined;
  /** Logged in with an OAuth2 access token (XOAUTH2) rather than a password. */
  oauth2?: boolean | undefined;
}

/** "The source server rejected the password for alice." or, logging in as an admin, names the admin. */
function rejectedSentence(side: "source" | "destination", mailbox: MailboxRef): string {
  if (mailbox.oauth2) {
    return `The ${side} server ${mailbox.host} rejected the OAuth2 access token for ${mailbox.user}: does the mailbox exist there, and may the service account, app or authorization open it (IMAP scope)?`;
  }
  if (mailbox.admin !== undefined) {
    return `The ${side} server ${mailbox.host} rejected the admin login "${mailbox.admin}" for ${mailbox.user}: check the server's admin credentials.`;
  }
  return `The ${side} server rejected the password for ${mailbox.user}.`;
}

export interface DescribeExitInput {
  /** The process exit code; null when it died from a signal. */
  exitCode: number | null;
  /** The signal that ended the process (e.g. "SIGTERM"), if any. */
  signal?: string | null;
  /** True when imapferry asked the engine to stop: a signal death is then a cancel, not a crash. */
  cancelled?: boolean;
  source: MailboxRef;
  destination: MailboxRef;
  /**
   * Which side the output blamed, for the codes imapsync leaves ambiguous (10, 12, 16, 117):
   * taken from the parser's connect-failed / login / failure events.
   */
  failedSide?: "source" | "destination";
  /** The error count from the exit line, for EXIT_WITH_ERRORS(_MAX). */
  errors?: number | null;
  /** A connection that dropped mid-run and was not brought back (the first one the output named). */
  connectionLost?: { side: "source" | "destination"; detail: string };
  /** The last time a server asked the engine to slow down or wait (see engines/throttle.ts). */
  throttled?: Throttle;
}

export interface ExitDescription {
  category: ExitCategory;
  /** imapsync's constant name, or "SIGNAL" / "UNKNOWN". */
  name: string;
  /** One sentence for the operator; names the mailbox, never a password. */
  sentence: string;
  /**
   * Set when the run ended on something that passes (a dropped connection, a throttling server): worth
   * running again by itself after a wait, the server's suggested one when it gave one.
   */
  passing?: { waitMs: number | null };
}

function sideName(side: "source" | "destination"): string {
  return side === "source" ? "source" : "destination";
}

/**
 * Exits that a dropped connection explains better than the code does: imapsync reports a vanished
 * destination as EXIT_ERR_APPEND (114) or dies of SIGPIPE writing to it; the built-in engine reports
 * 114 too once its reconnection attempts were refused.
 */
const EXPLAINED_BY_LOST_CONNECTION: ReadonlySet<number | null> = new Set([
  null,
  1,
  10,
  111,
  112,
  114,
  115,
  117,
]);

function connectionLostDescription(input: DescribeExitInput, pair: string): ExitDescription | undefined {
  const lost = input.connectionLost;
  if (!lost || !EXPLAINED_BY_LOST_CONNECTION.has(input.exitCode)) return undefined;
  const mailbox = lost.side === "destination" ? input.destination : input.source;
  const detail = lost.detail.length > 160 ? `${lost.detail.slice(0, 160)}…` : lost.detail;
  return {
    category: lost.side === "source" ? "source-connect" : "destination-connect",
    name: exitName(input.exitCode),
    sentence: `The connection to the ${lost.side} server ${mailbox.host} was lost during the migration of ${pair} and could not be reopened (${detail}). Check that the server is up and reachable, then run the migration again: what was copied stays, and is not copied twice.`,
    passing: { waitMs: null },
  };
}

/** A run that stopped after a server asked it to slow down or wait: the wait, not the exit, explains it. */
function throttledDescription(input: DescribeExitInput, pair: string): ExitDescription | undefined {
  const throttled = input.throttled;
  if (!throttled || input.exitCode === 0 || input.exitCode === 113) return undefined;
  const server = throttled.side
    ? `The ${throttled.side} server ${throttled.side === "source" ? input.source.host : input.destination.host}`
    : "A server";
  const wait = throttled.waitMs === null ? "" : ` and asked to wait ${Math.ceil(throttled.waitMs / 1000)} s`;
  return {
    category: "throttled",
    name: exitName(input.exitCode),
    sentence: `${server} throttled the migration of ${pair}${wait} ("${throttled.detail}"). Run it again later: what was copied stays, and is not copied twice.`,
    passing: { waitMs: throttled.waitMs },
  };
}

function exitName(exitCode: number | null): string {
  return exitCode === null ? "SIGNAL" : (IMAPSYNC_EXIT_CODES.get(exitCode)?.name ?? "UNKNOWN");
}

/** Turns an engine's exit into a category and a sentence naming the mailbox. */
export function describeExit(input: DescribeExitInput): ExitDescription {
  const src = input.source.user;
  const dst = input.destination.user;
  const pair = `${src} → ${dst}`;

  if (input.cancelled) {
    return {
      category: "cancelled",
      name: input.exitCode === null ? "SIGNAL" : (IMAPSYNC_EXIT_CODES.get(input.exitCode)?.name ?? "UNKNOWN"),
      sentence: `The migration of ${pair} was cancelled; what was already copied stays on the destination, and a rerun continues where it stopped.`,
    };
  }
  const passing = throttledDescription(input, pair) ?? connectionLostDescription(input, pair);
  if (passing) return passing;
  if (input.exitCode === null) {
    const signal = input.signal ?? "a signal";
    return {
      category: "signal",
      name: "SIGNAL",
      sentence: `The engine migrating ${pair} was killed by ${signal} before it finished (out of memory, or stopped by someone on the machine); run it again to complete the mailbox.`,
    };
  }

  const known = IMAPSYNC_EXIT_CODES.get(input.exitCode);
  if (!known) {
    return {
      category: "unknown",
      name: "UNKNOWN",
      sentence: `The engine migrating ${pair} exited with code ${input.exitCode}, which imapferry does not know; the log says what happened.`,
    };
  }

  const side = input.failedSide;
  const sideUser = side === "destination" ? dst : src;
  const sideHost = side === "destination" ? input.destination.host : input.source.host;
  const errors = input.errors ?? null;
  const sentence = ((): string => {
    switch (known.code) {
      case 0:
        return `The migration of ${pair} finished without errors.`;
      case 1:
        return `The engine migrating ${pair} stopped on an unexpected error; the log says what happened.`;
      case 6:
        return `The migration of ${pair} was stopped by a signal before it finished; run it again to complete the mailbox.`;
      case 7:
        return `The migration of ${pair} was stopped by imapsync's stop file before it finished; run it again to complete the mailbox.`;
      case 8:
        return `The engine could not write its PID file while migrating ${pair}; check that its temporary directory is writable.`;
      case 10:
        return side
          ? `Could not connect to the ${sideName(side)} server ${sideHost} for ${sideUser}: it refused the connection or did not answer. Check the host name, the port and any firewall.`
          : `Could not connect to the source or destination server for ${pair}. Check the host names, the ports and any firewall.`;
      case 101:
        return `Could not connect to the source server ${input.source.host} for ${src}: it refused the connection or did not answer. Check the host name, the port and any firewall.`;
      case 102:
        return `Could not connect to the destination server ${input.destination.host} for ${dst}: it refused the connection or did not answer. Check the host name, the port and any firewall.`;
      case 12:
        return side
          ? `The TLS handshake with the ${sideName(side)} server ${sideHost} failed for ${sideUser}. Check the server's security setting (TLS or STARTTLS), and allow a self-signed certificate on the server if it uses one.`
          : `The TLS handshake failed while migrating ${pair}. Check the servers' security settings (TLS or STARTTLS), and allow a self-signed certificate where one is used.`;
      case 16:
        return side
          ? rejectedSentence(side, side === "destination" ? input.destination : input.source)
          : `A server rejected the login while migrating ${pair}; check both passwords.`;
      case 161:
        return rejectedSentence("source", input.source);
      case 162:
        return rejectedSentence("destination", input.destination);
      case 21:
        return `The folder chosen as the source subfolder does not exist in the source mailbox ${src}.`;
      case 64:
        return `The engine rejected its command line while migrating ${pair}; this is a bug in imapferry's engine options, please report it with the log.`;
      case 66:
        return `The engine could not read an input file it was given while migrating ${pair}.`;
      case 69:
        return `A service the engine needs was unavailable while migrating ${pair}; the log says which.`;
      case 70:
        return `The engine hit an internal software error while migrating ${pair}; the log says where.`;
      case 111:
        return `The migration of ${pair} finished with ${errors === null ? "errors" : errors === 1 ? "1 error" : `${errors} errors`}: some messages or folders were not copied. The errors are listed at the end of the log, and a rerun retries them.`;
      case 112:
        return `The migration of ${pair} gave up after too many errors${errors === null ? "" : ` (${errors})`}; the errors are listed at the end of the log.`;
      case 113:
        return `The destination mailbox ${dst} is over its quota; free space or raise the quota, then run the migration again.`;
      case 114:
        return `The destination server refused to store some messages in ${dst} (APPEND failed); the log lists them, and a rerun retries them.`;
      case 115:
        return `Some messages could not be read from the source mailbox ${src} (FETCH failed); the log lists them, and a rerun retries them.`;
      case 116:
        return `Some folders could not be created in the destination mailbox ${dst}; the log lists them.`;
      case 117:
        return side
          ? `Some folders could not be opened in the ${sideName(side)} mailbox ${sideUser} (SELECT failed); the log lists them.`
          : `Some folders could not be opened while migrating ${pair} (SELECT failed); the log lists them.`;
      case 118:
        return `The migration of ${pair} stopped at its transfer limit; run it again to continue.`;
      case 119:
        return `The destination server's virus scanner refused some messages for ${dst}; the log lists them.`;
      case 120:
        return `The messages of ${pair} were copied, but the destination refused some flags (read, answered, starred); a rerun retries them.`;
      default:
        return `The engine migrating ${pair} exited with ${known.name} (code ${known.code}); the log says what happened.`;
    }
  })();

  // A generic code resolved to a side gets the side's category.
  let category = known.category;
  if (side && known.code === 10) category = side === "source" ? "source-connect" : "destination-connect";
  if (side && known.code === 16) category = side === "source" ? "source-auth" : "destination-auth";
  // A server that refuses or ignores connections may be restarting or briefly unreachable: worth
  // trying again later (within the retry policy's bounds), unlike a refused login or a TLS failure.
  const passes = known.code === 10 || known.code === 101 || known.code === 102;
  return { category, name: known.name, sentence, ...(passes ? { passing: { waitMs: null } } : {}) };
}
