import { connect as connectTcp, type Socket } from "node:net";
import { connect as connectTls, type PeerCertificate } from "node:tls";
import type { ImapServerEndpoint } from "./connection-test.ts";

/** What an operator checks before trusting a certificate that does not verify. */
export interface ServerCertificate {
  /** SHA-256 of the DER certificate, "AB:CD:…" as browsers and `openssl x509 -fingerprint` show it. */
  sha256: string;
  subject: string;
  issuer: string;
  validTo: string;
}

function describe(certificate: PeerCertificate): ServerCertificate {
  const name = (fields: Record<string, unknown> | undefined) =>
    Object.entries(fields ?? {})
      .map(([key, value]) => `${key}=${String(value)}`)
      .join(", ");
  return {
    sha256: certificate.fingerprint256,
    subject: name(certificate.subject as unknown as Record<string, unknown>),
    issuer: name(certificate.issuer as unknown as Record<string, unknown>),
    validTo: certificate.valid_to,
  };
}

/** Reads from the socket until `done` accepts what arrived (IMAP's greeting, a tagged answer). */
function readUntil(socket: Socket, done: (text: string) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (done(text)) {
        socket.off("data", onData);
        resolve();
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.once("close", () => reject(new Error("the server closed the connection")));
  });
}

/**
 * The certificate a server presents, without verifying it (for the operator to decide whether to
 * trust it): implicit TLS, or STARTTLS after the IMAP greeting. Null when it cannot be read in time.
 * Nothing is sent but the greeting's STARTTLS; no credentials are involved.
 */
export async function readServerCertificate(
  server: Pick<ImapServerEndpoint, "host" | "port" | "security">,
  timeoutMs = 5000,
): Promise<ServerCertificate | null> {
  if (server.security === "none") return null;
  const sockets: Socket[] = [];
  const timer = new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs).unref());
  const read = (async (): Promise<ServerCertificate | null> => {
    let plain: Socket | undefined;
    if (server.security === "starttls") {
      plain = connectTcp({ host: server.host, port: server.port });
      // Errors reject the reads below; unheard, a late one (a reset after we hung up) would crash.
      plain.on("error", () => {});
      sockets.push(plain);
      await readUntil(plain, (text) => text.includes("\r\n"));
      plain.write("a STARTTLS\r\n");
      await readUntil(plain, (text) => /^a OK/m.test(text));
    }
    const secure = connectTls({
      ...(plain ? { socket: plain } : { host: server.host, port: server.port }),
      servername: /^[\d.:]+$/.test(server.host) ? undefined : server.host,
      rejectUnauthorized: false,
    });
    secure.on("error", () => {});
    sockets.push(secure);
    await new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", () => resolve());
      secure.once("error", reject);
    });
    const certificate = secure.getPeerCertificate();
    return certificate?.fingerprint256 ? describe(certificate) : null;
  })().catch(() => null);
  try {
    return await Promise.race([read, timer]);
  } finally {
    // The outermost socket only: a TLS socket destroys the plain one it wraps (destroying the plain
    // one under a live TLS socket as well crashed the process, native-side, in testing).
    sockets.at(-1)?.destroy();
  }
}
