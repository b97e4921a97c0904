import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import {
  SMTPServer,
  type SMTPServerAuthentication,
  type SMTPServerAuthenticationResponse,
  type SMTPServerDataStream,
  type SMTPServerSession,
} from "smtp-server";

/** One message the test server accepted, as a mail client would see it plus its SMTP envelope. */
export interface ReceivedMail {
  /** MAIL FROM of the envelope. */
  envelopeFrom: string | null;
  /** RCPT TO addresses of the envelope. */
  envelopeTo: string[];
  /** The user the client authenticated as, or null without AUTH. */
  authUser: string | null;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string | null;
  messageId: string | null;
  /** The whole message as received (headers and body), for "this must never appear anywhere" checks. */
  raw: string;
}

export interface StartSmtpServerOptions {
  /**
   * Require AUTH with these credentials (PLAIN/LOGIN over plain TCP: loopback only).
   * @defaultValue no authentication
   */
  auth?: { user: string; password: string };
  /**
   * Listen on this port (e.g. to come back where a previous server was).
   * @defaultValue a free port chosen by the OS
   */
  port?: number;
}

export interface SmtpTestServer {
  readonly host: string;
  readonly port: number;
  /** Every message accepted so far, in order. */
  readonly messages: ReceivedMail[];
  /** How many SMTP connections were opened, including those refused while down. */
  readonly connections: number;
  /** Resolves once at least `count` messages have arrived (never times out: the test runner does). */
  waitForMessages(count: number): Promise<ReceivedMail[]>;
  /** Resolves once at least `count` connections were opened (e.g. refused while down). */
  waitForConnections(count: number): Promise<void>;
  /**
   * While down, every connection is answered "421 service not available" and closed, the way a mail
   * server under maintenance answers: the client sees a temporary failure.
   */
  setDown(down: boolean): void;
  /** Stops listening (connections are refused) without forgetting the messages; `start()` comes back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops for good. */
  close(): Promise<void>;
}

const LOOPBACK = "127.0.0.1";

/**
 * A real SMTP server in-process (the `smtp-server` package), parsing what it receives with
 * `mailparser`. Tests send through it with real SMTP clients and assert on what arrived.
 */
export async function startSmtpServer(options: StartSmtpServerOptions = {}): Promise<SmtpTestServer> {
  const messages: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  let connections = 0;
  let down = false;
  let server: SMTPServer | null = null;
  let port = options.port ?? 0;

  function notifyWaiters(): void {
    for (const check of [...waiters]) check();
  }

  function waitUntil(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const check = function checkCondition(): void {
        if (!condition()) return;
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
    });
  }

  function handleConnect(_session: SMTPServerSession, callback: (err?: Error | null) => void): void {
    connections += 1;
    notifyWaiters();
    if (!down) {
      callback();
      return;
    }
    const refusal = Object.assign(new Error("Service not available, try again later"), { responseCode: 421 });
    callback(refusal);
  }

  function handleAuth(
    auth: SMTPServerAuthentication,
    _session: SMTPServerSession,
    callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
  ): void {
    const expected = options.auth;
    if (expected && auth.username === expected.user && auth.password === expected.password) {
      callback(null, { user: auth.username });
      return;
    }
    callback(Object.assign(new Error("Invalid username or password"), { responseCode: 535 }));
  }

  function handleData(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): void {
    const chunks: Buffer[] = [];
    stream.on("data", function collectChunk(chunk: Buffer) {
      chunks.push(chunk);
    });
    stream.on("end", function parseMessage() {
      const raw = Buffer.concat(chunks);
      simpleParser(raw).then(
        function storeMessage(parsed: ParsedMail) {
          messages.push(toReceivedMail(parsed, raw.toString("utf8"), session));
          notifyWaiters();
          callback();
        },
        function rejectMessage(e: unknown) {
          callback(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  async function start(): Promise<void> {
    if (server) return;
    const next = new SMTPServer({
      secure: false,
      // Plain TCP on loopback: no STARTTLS so clients need no certificate trust setup.
      disabledCommands: options.auth ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
      authOptional: !options.auth,
      allowInsecureAuth: true,
      logger: false,
      closeTimeout: 1000,
      onConnect: handleConnect,
      onAuth: handleAuth,
      onData: handleData,
    });
    next.on("error", function ignoreClientErrors() {
      // A client dropping mid-session is the client's problem, not a reason to crash the test run.
    });
    next.listen(port, LOOPBACK);
    await once(next.server, "listening");
    port = (next.server.address() as AddressInfo).port;
    server = next;
  }

  async function stop(): Promise<void> {
    const current = server;
    if (!current) return;
    server = null;
    await new Promise<void>((resolve) => current.close(() => resolve()));
  }

  await start();

  return {
    host: LOOPBACK,
    get port() {
      return port;
    },
    messages,
    get connections() {
      return connections;
    },
    async waitForMessages(count: number) {
      await waitUntil(() => messages.length >= count);
      return messages.slice();
    },
    async waitForConnections(count: number) {
      await waitUntil(() => connections >= count);
    },
    setDown(value: boolean) {
      down = value;
    },
    stop,
    start,
    close: stop,
  };
}

function addressList(value: ParsedMail["to"]): string[] {
  if (!value) return [];
  const objects = Array.isArray(value) ? value : [value];
  return objects.flatMap((o) => o.value.map((a) => a.address ?? "")).filter((a) => a !== "");
}

function toReceivedMail(parsed: ParsedMail, raw: string, session: SMTPServerSession): ReceivedMail {
  const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : null;
  const user: unknown = session.user;
  return {
    envelopeFrom,
    envelopeTo: session.envelope.rcptTo.map((r) => r.address),
    authUser: typeof user === "string" ? user : null,
    from: parsed.from?.value[0]?.address ?? "",
    to: addressList(parsed.to),
    subject: parsed.subject ?? "",
    text: parsed.text ?? "",
    html: typeof parsed.html === "string" ? parsed.html : null,
    messageId: parsed.messageId ?? null,
    raw,
  };
}
