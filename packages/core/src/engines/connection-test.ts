import { isIP } from "node:net";
import type { ServerSecurity } from "@imapferry/db";
import type { ImapFlowOptions } from "imapflow";
import { ImapFlow } from "imapflow";
import { errorMessage } from "../errors.ts";
import { DENIED_HOST_SENTENCE, type HostDenyList } from "../net/deny-hosts.ts";
import { wireLogin } from "./admin-login.ts";
import { imapflowAuth } from "./builtin/connect-side.ts";
import { readServerCertificate, type ServerCertificate } from "./server-certificate.ts";
import type { AdminLogin } from "./types.ts";

/** How to reach an IMAP server (a `servers` row, or a form being filled in). */
export interface ImapServerEndpoint {
  host: string;
  port: number;
  security: ServerSecurity;
  /** Accept a certificate that does not verify (self-signed, wrong name, expired). @defaultValue false */
  acceptSelfSigned: boolean;
}

export interface ImapCredentials {
  /** The mailbox login. */
  user: string;
  /** The mailbox's password, or with `admin` the admin's. */
  password: string;
  /** Log in as this admin on behalf of `user` (see admin-login.ts). */
  admin?: AdminLogin | undefined;
  /** Log in with XOAUTH2 as `user`, with the access token in this file (read at connect). */
  accessTokenFile?: string | undefined;
}

export const CONNECTION_FAILURE_CATEGORIES = [
  "dns",
  "refused",
  "timeout",
  "tls",
  "auth",
  "protocol",
  "denied",
  /** A token endpoint refused the server's service account or app for the login (see oauth2-connection-test.ts). */
  "oauth2",
] as const;
export type ConnectionFailureCategory = (typeof CONNECTION_FAILURE_CATEGORIES)[number];

export type ConnectionTestResult =
  | {
      ok: true;
      /** What the server advertises (after login when credentials were given). */
      capabilities: string[];
      /** From the start of the connection to a usable session. */
      latencyMs: number;
      /** True when credentials were given and accepted. */
      authenticated: boolean;
    }
  | {
      ok: false;
      category: ConnectionFailureCategory;
      sentence: string;
      /** A certificate that did not verify, for the operator to check and trust (TLS failures only). */
      certificate?: ServerCertificate;
    };

export interface TestConnectionOptions {
  /** Budget for DNS, TCP, TLS, greeting and login together. @defaultValue 15000 */
  timeoutMs?: number;
  /** Hosts answered with DENIED_HOST_SENTENCE, without connecting. @defaultValue none */
  denyHosts?: HostDenyList;
}

const DEFAULT_TIMEOUT_MS = 15_000;

const TLS_CERT_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** ImapFlow options for a server; certificates are verified unless the server accepts self-signed ones. */
export function imapflowOptionsFor(
  server: ImapServerEndpoint,
  credentials: ImapCredentials | undefined,
  timeoutMs: number,
): ImapFlowOptions {
  return {
    host: server.host,
    port: server.port,
    secure: server.security === "tls",
    // "none" is the operator's explicit choice of cleartext; "starttls" must upgrade or fail, never
    // silently continue in cleartext (a stripped STARTTLS is a downgrade attack).
    doSTARTTLS: server.security === "starttls" ? true : server.security === "none" ? false : undefined,
    tls: {
      rejectUnauthorized: !server.acceptSelfSigned,
      ...(isIP(server.host) === 0 ? { servername: server.host } : {}),
    },
    ...(credentials
      ? {
          auth: imapflowAuth(
            {
              ...wireLogin(credentials),
              ...(credentials.accessTokenFile !== undefined
                ? { accessTokenFile: credentials.accessTokenFile }
                : {}),
            },
            credentials.password,
          ),
        }
      : {}),
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: Math.max(timeoutMs, 30_000),
  };
}

function errorCode(e: unknown): string {
  if (
    typeof e === "object" &&
    e !== null &&
    "code" in e &&
    typeof (e as { code: unknown }).code === "string"
  ) {
    return (e as { code: string }).code;
  }
  return "";
}

function isAuthFailure(e: unknown): boolean {
  return (
    typeof e === "object" &&
    e !== null &&
    (e as { authenticationFailed?: unknown }).authenticationFailed === true
  );
}

/**
 * Turns what ImapFlow / Node report into one of the categories and a sentence an operator can act on.
 * The sentence names the server and the login, never the password.
 */
export function classifyConnectionError(
  e: unknown,
  server: ImapServerEndpoint,
  user: string | undefined,
  timeoutMs: number,
  admin?: AdminLogin,
): { category: ConnectionFailureCategory; sentence: string } {
  const where = `${server.host}:${server.port}`;
  const code = errorCode(e);
  const message = errorMessage(e);

  if (isAuthFailure(e) && admin) {
    return {
      category: "auth",
      sentence: `${server.host} rejected the admin login "${admin.login}"${user ? ` for ${user}` : ""}: check the server's admin credentials (login, password and ${admin.mode === "sasl-authzid" ? "that this admin may log in for other users" : `the separator "${admin.separator}"`}).`,
    };
  }
  if (isAuthFailure(e)) {
    return {
      category: "auth",
      sentence: `${server.host} rejected the login${user ? ` for ${user}` : ""}: check the user name and the password.`,
    };
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME" || code === "EAI_FAIL") {
    return {
      category: "dns",
      sentence: `The host name ${server.host} could not be found (DNS${code === "EAI_AGAIN" ? ", temporary failure" : ""}). Check its spelling.`,
    };
  }
  if (code === "ECONNREFUSED") {
    return {
      category: "refused",
      sentence: `${where} refused the connection: nothing listens on that port, or a firewall rejects it. Check the port.`,
    };
  }
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") {
    return {
      category: "refused",
      sentence: `${where} cannot be reached from this machine (no route to the host).`,
    };
  }
  if (TLS_CERT_CODES.has(code)) {
    const selfSigned = code === "DEPTH_ZERO_SELF_SIGNED_CERT" || code === "SELF_SIGNED_CERT_IN_CHAIN";
    return {
      category: "tls",
      sentence: selfSigned
        ? `${where} presented a self-signed certificate. If you trust this server, turn on "accept self-signed certificate" for it.`
        : `The certificate of ${where} did not verify (${message}). Fix the certificate, or turn on "accept self-signed certificate" for this server if you trust it.`,
    };
  }
  if (
    code === "CONNECT_TIMEOUT" ||
    code === "GREETING_TIMEOUT" ||
    code === "UPGRADE_TIMEOUT" ||
    code === "ETIMEOUT" ||
    code === "ETIMEDOUT"
  ) {
    const hint =
      code === "GREETING_TIMEOUT" && server.security !== "tls"
        ? " It accepted the connection but sent no IMAP greeting: if this is a TLS port (usually 993), set the security to TLS."
        : " Check the host, the port and any firewall in between.";
    return {
      category: "timeout",
      sentence: `${where} did not answer within ${Number((timeoutMs / 1000).toFixed(1))} s.${hint}`,
    };
  }
  if (/STARTTLS/.test(message) && !code.startsWith("ERR_")) {
    return {
      category: "tls",
      sentence: `${where} does not offer STARTTLS. Set this server's security to TLS (port 993) or, if you accept cleartext, to none.`,
    };
  }
  if (
    code.startsWith("ERR_SSL") ||
    code.startsWith("ERR_TLS") ||
    code === "EPROTO" ||
    code === "ClosedAfterConnectTLS" ||
    /SSL|TLS|handshake/i.test(message)
  ) {
    const hint =
      server.security === "tls"
        ? " Is this port plain IMAP or STARTTLS (usually 143) rather than TLS (usually 993)?"
        : " Check the security setting of this server.";
    return { category: "tls", sentence: `The TLS handshake with ${where} failed.${hint}` };
  }
  if (
    code === "ECONNRESET" ||
    code === "EPIPE" ||
    code === "NoConnection" ||
    code === "EConnectionClosed" ||
    code === "ClosedAfterConnectText"
  ) {
    return {
      category: "protocol",
      sentence: `${where} closed the connection before an IMAP session was established. Check that this is an IMAP port and the security setting matches it.`,
    };
  }
  return {
    category: "protocol",
    sentence: `${where} answered, but not as an IMAP server would (${message.slice(0, 200)}).`,
  };
}

/**
 * Opens an authenticated (or, without credentials, just greeted) ImapFlow session within `timeoutMs`.
 * The caller owns the returned client and must log out or close it.
 */
export async function openImapSession(
  server: ImapServerEndpoint,
  credentials: ImapCredentials,
  timeoutMs: number = DEFAULT_TIMEOUT_MS,
): Promise<ImapFlow> {
  const client = new ImapFlow(imapflowOptionsFor(server, credentials, timeoutMs));
  // ImapFlow reports socket trouble as 'error' events; unhandled they would crash the process.
  client.on("error", function ignoreClientError() {});
  await withDeadline(client, client.connect(), timeoutMs);
  return client;
}

/** Rejects with a timeout (and closes the client) when `work` takes longer than `timeoutMs` overall. */
async function withDeadline<T>(client: ImapFlow, work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    // A little after ImapFlow's own timeouts (same budget), so their more precise code wins when they fire.
    timer = setTimeout(function connectionDeadline() {
      client.close();
      reject(Object.assign(new Error("Timed out"), { code: "ETIMEOUT" }));
    }, timeoutMs + 1000);
  });
  try {
    return await Promise.race([work, deadline]);
  } catch (e: unknown) {
    client.close();
    throw e;
  } finally {
    clearTimeout(timer);
    work.catch(() => {});
  }
}

/**
 * The API's Test button: can this server be reached, does TLS work as configured, and (with
 * credentials) does the login succeed. Never throws; never puts the password in its answer.
 */
export async function testConnection(
  server: ImapServerEndpoint,
  credentials?: ImapCredentials,
  options: TestConnectionOptions = {},
): Promise<ConnectionTestResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // Checked before any packet goes out: refused, silent and open ports must all get the same answer at
  // the same speed, or this button is a port scanner for the installation's own network.
  if (await options.denyHosts?.deniesHost(server.host)) {
    return { ok: false, category: "denied", sentence: DENIED_HOST_SENTENCE };
  }
  const started = performance.now();
  const client = new ImapFlow(imapflowOptionsFor(server, credentials, timeoutMs));
  client.on("error", function ignoreClientError() {});
  try {
    await withDeadline(client, client.connect(), timeoutMs);
  } catch (e: unknown) {
    // Without credentials ImapFlow still greets, negotiates TLS and reads the capabilities, then
    // stops at the login step: that is exactly the anonymous reachability test we want.
    if (!credentials && isAuthFailure(e) && client.capabilities.size > 0) {
      return {
        ok: true,
        capabilities: [...client.capabilities.keys()],
        latencyMs: Math.round(performance.now() - started),
        authenticated: false,
      };
    }
    const failure = classifyConnectionError(e, server, credentials?.user, timeoutMs, credentials?.admin);
    if (failure.category === "tls" && TLS_CERT_CODES.has(errorCode(e))) {
      const certificate = await readServerCertificate(server);
      if (certificate) return { ok: false, ...failure, certificate };
    }
    return { ok: false, ...failure };
  }
  const latencyMs = Math.round(performance.now() - started);
  const capabilities = [...client.capabilities.keys()];
  await client.logout().catch(() => client.close());
  return { ok: true, capabilities, latencyMs, authenticated: true };
}
