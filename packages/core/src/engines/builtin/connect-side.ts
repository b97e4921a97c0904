import { readFileSync } from "node:fs";
import { ImapFlow } from "imapflow";
import type { SideArgs } from "./sync-args.ts";
import type { SyncSession } from "./sync-session.ts";
import { throttleLogger } from "./throttle-waits.ts";

export type SideNumber = 1 | 2;

export type OpenFailureKind = "connect" | "auth" | "tls";

export type OpenResult =
  | { ok: true; client: ImapFlow; lines: string[] }
  | { ok: false; kind: OpenFailureKind; lines: string[]; error: string };

/** Node's TLS verification and handshake codes: these mean EXIT_TLS_FAILURE, not a refused port. */
const TLS_ERROR_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "EPROTO",
]);

const SOCKET_ERROR_TEXT: Record<string, string> = {
  ECONNREFUSED: "Connection refused",
  ETIMEDOUT: "Connection timed out",
  ENOTFOUND: "Name or service not known",
  EAI_AGAIN: "Temporary failure in name resolution",
  EHOSTUNREACH: "No route to host",
  ENETUNREACH: "Network is unreachable",
  ECONNRESET: "Connection reset by peer",
};

interface ErrorShape {
  code?: unknown;
  message?: unknown;
  authenticationFailed?: unknown;
  response?: unknown;
  tlsFailed?: unknown;
}

function shapeOf(e: unknown): ErrorShape {
  return typeof e === "object" && e !== null ? (e as ErrorShape) : { message: String(e) };
}

export function classifyOpenError(e: unknown): OpenFailureKind {
  const err = shapeOf(e);
  if (err.authenticationFailed === true) {
    return "auth";
  }
  const code = typeof err.code === "string" ? err.code : "";
  if (
    err.tlsFailed === true ||
    TLS_ERROR_CODES.has(code) ||
    code.startsWith("ERR_SSL") ||
    code.startsWith("ERR_TLS")
  ) {
    return "tls";
  }
  return "connect";
}

function describeSocketError(e: unknown): string {
  const err = shapeOf(e);
  const code = typeof err.code === "string" ? err.code : "";
  const text = SOCKET_ERROR_TEXT[code];
  if (text) {
    return text;
  }
  const message = typeof err.message === "string" ? err.message.split("\n")[0] : "";
  return message || code || "unknown error";
}

function authMechanism(client: ImapFlow, args: Pick<SideArgs, "accessTokenFile">): string {
  if (args.accessTokenFile !== undefined)
    return client.capabilities.has("AUTH=OAUTHBEARER") ? "OAUTHBEARER" : "XOAUTH2";
  return client.capabilities.has("AUTH=PLAIN") ? "PLAIN" : "LOGIN";
}

/**
 * The token file's first line, read afresh at each connect: the worker renews the file before the token
 * expires. An unreadable file gives an empty token, which the server refuses like any bad login.
 */
export function readAccessToken(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n")[0]?.trim() ?? "";
  } catch {
    return "";
  }
}

/**
 * imapflow's login for one side. With `--authuserN` it is SASL PLAIN as the admin with the mailbox
 * login as authorization identity; the mechanism is pinned, since imapflow would otherwise fall back
 * to LOGIN (which has no authorization identity) for a login with a backslash in it.
 */
export function imapflowAuth(
  args: Pick<SideArgs, "user" | "authUser" | "accessTokenFile">,
  password: string,
): { user: string; pass?: string; accessToken?: string; authzid?: string; loginMethod?: string } {
  if (args.accessTokenFile !== undefined)
    return { user: args.user, accessToken: readAccessToken(args.accessTokenFile) };
  if (args.authUser === undefined) return { user: args.user, pass: password };
  return { user: args.authUser, pass: password, authzid: args.user, loginMethod: "AUTH=PLAIN" };
}

/**
 * Builds the imapflow client for one side. Transport mapping follows imapsync: `--sslN` is
 * implicit TLS, `--tlsN` demands STARTTLS, `--notlsN` stays in plain text, and the default
 * upgrades with STARTTLS when the server offers it. Certificates are verified unless
 * `--sslargsN SSL_verify_mode=0` says otherwise.
 */
export function createSideClient(
  args: SideArgs,
  password: string,
  logger: NonNullable<ConstructorParameters<typeof ImapFlow>[0]>["logger"] = false,
): ImapFlow {
  const timeoutMs = Math.max(1, args.timeoutSeconds) * 1000;
  return new ImapFlow({
    host: args.host,
    port: args.port,
    secure: args.security === "tls",
    doSTARTTLS: args.security === "starttls" ? true : args.security === "none" ? false : undefined,
    tls: { rejectUnauthorized: args.verifyCertificate },
    auth: imapflowAuth(args, password),
    logger,
    disableAutoIdle: true,
    disableCompression: true,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    // imapflow's inactivity watchdog: a source FETCH held back by a slow (or throttled)
    // destination is silent without being dead, so this is far longer than --timeoutN.
    socketTimeout: Math.max(timeoutMs, 30 * 60_000),
  });
}

/** `Host1: connecting and login on host1 [h] port [p] with user [u]`, printed before connecting. */
export function connectingLine(side: SideNumber, args: SideArgs): string {
  return `Host${side}: connecting and login on host${side} [${args.host}] port [${args.port}] with user [${args.user}]`;
}

/**
 * Connects and logs in one side, returning the imapsync-shaped lines to print (the caller
 * prints both sides in order, Host1 first, though they connect at the same time).
 */
export async function openSide(
  side: SideNumber,
  args: SideArgs,
  password: string,
  /** The run's session, to report the server's suggested backoffs in (see throttle-waits.ts). */
  session?: SyncSession,
): Promise<OpenResult> {
  const label = `Host${side}`;
  const lines: string[] = [];
  let opened: ImapFlow | undefined;
  const client = createSideClient(
    args,
    password,
    session ? throttleLogger(side, session, () => opened) : false,
  );
  opened = client;
  // imapflow emits 'error' for socket failures after connect; without a listener Node would
  // turn it into an uncaught exception. The failing command reports the error itself.
  client.on("error", function ignoreEmittedError() {});
  try {
    await client.connect();
  } catch (e: unknown) {
    client.close();
    const kind = classifyOpenError(e);
    const mechanism = authMechanism(client, args);
    if (kind === "auth") {
      const response = shapeOf(e).response;
      const serverText = typeof response === "string" ? response : "NO Authentication failed.";
      const error = `${label} failure: Error login on [${args.host}] with user [${args.user}] auth [${mechanism}]: ${serverText}`;
      lines.push(
        error,
        `${label}: failed login on [${args.host}] with user [${args.user}] auth [${mechanism}]`,
      );
      return { ok: false, kind, lines, error };
    }
    const reason =
      kind === "tls"
        ? `TLS negotiation failed with ${args.host}:${args.port}: ${describeSocketError(e)}`
        : `Unable to connect to ${args.host}:  ${describeSocketError(e)}`;
    const error = `${label} failure: can not open imap connection on host${side} [${args.host}] with user [${args.user}]: ${reason}`;
    lines.push(error);
    return { ok: false, kind, lines, error };
  }
  const mechanism = authMechanism(client, args);
  lines.push(
    `${label}: success login on [${args.host}] with user [${args.user}] auth [${mechanism}] or [${mechanism}]`,
  );
  return { ok: true, client, lines };
}
