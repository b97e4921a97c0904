import type { Socket } from "node:net";
import { isIP, connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { OutgoingMessage } from "./append-messages.ts";
import { formatImapDateTime } from "./append-messages.ts";
import { readAccessToken } from "./connect-side.ts";
import type { SideArgs } from "./sync-args.ts";

/*
 * A second destination connection that only APPENDs, written because imapflow (which does
 * everything else) sends one command at a time and uses non-synchronizing literals only up to
 * 4 KB: every larger message then costs a round trip for the server's "+" continuation, and on
 * a busy machine each of those waits for a scheduler slot. With LITERAL+ and MULTIAPPEND a whole
 * batch goes out in one write, and with pipelining the next batch is already on the wire while
 * the server saves the previous one. Used only when the server offers both extensions.
 */

export class AppendCommandError extends Error {
  override readonly name = "AppendCommandError";
  constructor(
    /** The server's text after the status, e.g. "[OVERQUOTA] Quota exceeded (mailbox for user is full)". */
    readonly responseText: string,
    /** The bracketed response code, e.g. "OVERQUOTA", if any. */
    readonly serverResponseCode: string | undefined,
  ) {
    super(responseText);
  }
}

interface Pending {
  tag: string;
  resolve(line: string): void;
  reject(error: Error): void;
}

function quoted(value: string): string {
  if (/[\r\n\0]/.test(value)) {
    throw new Error("A quoted IMAP string cannot carry CR, LF or NUL.");
  }
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function responseCode(text: string): string | undefined {
  const match = /^\[([A-Za-z0-9-]+)/.exec(text);
  return match?.[1]?.toUpperCase();
}

export class AppendConnection {
  private socket: Socket;
  private buffered = "";
  private readonly pending: Pending[] = [];
  private readonly untagged: string[] = [];
  private tagCounter = 0;
  private failure: Error | undefined;
  capabilities = new Set<string>();

  /** False once the connection failed or was closed. */
  get usable(): boolean {
    return this.failure === undefined;
  }

  private constructor(socket: Socket) {
    this.socket = socket;
    this.attach(socket);
  }

  private attach(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error: Error) => this.fail(error));
    socket.on("close", () => this.fail(new Error("The destination closed the append connection.")));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.pending.splice(0)) {
      waiter.reject(this.failure);
    }
  }

  private onData(chunk: Buffer): void {
    // Server lines in this conversation never carry literals (greeting, CAPABILITY, tagged
    // status), so a line reader is enough.
    this.buffered += chunk.toString("latin1");
    let end = this.buffered.indexOf("\r\n");
    while (end >= 0) {
      const line = this.buffered.slice(0, end);
      this.buffered = this.buffered.slice(end + 2);
      this.onLine(line);
      end = this.buffered.indexOf("\r\n");
    }
  }

  private onLine(line: string): void {
    const space = line.indexOf(" ");
    const tag = space > 0 ? line.slice(0, space) : line;
    const waiter = this.pending[0];
    if (waiter && tag === waiter.tag) {
      this.pending.shift();
      waiter.resolve(line.slice(space + 1));
    } else if (tag === "*") {
      this.untagged.push(line.slice(2));
    }
  }

  /** Sends one command (its parts written in order) and resolves with the tagged status line. */
  private command(parts: (string | Buffer)[]): Promise<{ status: string; text: string }> {
    if (this.failure) {
      return Promise.reject(this.failure);
    }
    this.tagCounter += 1;
    const tag = `F${this.tagCounter}`;
    const promise = new Promise<string>((resolve, reject) => {
      this.pending.push({ tag, resolve, reject });
    });
    // Corked so a command's many small pieces leave in as few packets as the kernel allows.
    this.socket.cork();
    this.socket.write(`${tag} `);
    for (const part of parts) {
      this.socket.write(part);
    }
    this.socket.write("\r\n");
    this.socket.uncork();
    return promise.then(function splitStatus(rest) {
      const space = rest.indexOf(" ");
      const status = (space > 0 ? rest.slice(0, space) : rest).toUpperCase();
      return { status, text: space > 0 ? rest.slice(space + 1) : "" };
    });
  }

  private async expectOk(parts: (string | Buffer)[]): Promise<string> {
    const { status, text } = await this.command(parts);
    if (status !== "OK") {
      throw new AppendCommandError(text, responseCode(text));
    }
    return text;
  }

  private waitForGreeting(): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const check = () => {
        const greeting = this.untagged.shift();
        if (greeting !== undefined) {
          this.socket.off("data", check);
          resolve(greeting);
        } else if (this.failure) {
          reject(this.failure);
        }
      };
      this.socket.on("data", check);
      this.socket.once("close", check);
      check();
    });
  }

  private async refreshCapabilities(): Promise<void> {
    this.untagged.length = 0;
    await this.expectOk(["CAPABILITY"]);
    const line = this.untagged.find((entry) => entry.toUpperCase().startsWith("CAPABILITY "));
    this.capabilities = new Set(
      (line ?? "")
        .split(" ")
        .slice(1)
        .map((cap) => cap.toUpperCase()),
    );
  }

  /**
   * Opens and logs in, with the same transport rules as the main connection. Resolves to
   * undefined when the server lacks LITERAL+ or MULTIAPPEND (the caller keeps using imapflow).
   */
  static async open(side: SideArgs, password: string): Promise<AppendConnection | undefined> {
    const tlsOptions = {
      rejectUnauthorized: side.verifyCertificate,
      ...(isIP(side.host) ? {} : { servername: side.host }),
    };
    const socket = await new Promise<Socket>((resolve, reject) => {
      const raw =
        side.security === "tls"
          ? tlsConnect({ host: side.host, port: side.port, ...tlsOptions }, () => resolve(raw))
          : netConnect({ host: side.host, port: side.port }, () => resolve(raw));
      raw.once("error", reject);
      raw.setTimeout(side.timeoutSeconds * 1000, () =>
        raw.destroy(new Error("The append connection timed out.")),
      );
    });
    const connection = new AppendConnection(socket);
    try {
      const greeting = await connection.waitForGreeting();
      if (!/^OK\b/i.test(greeting)) {
        throw new Error(`Unexpected greeting from the destination: ${greeting.slice(0, 200)}`);
      }
      await connection.refreshCapabilities();
      const canStartTls = connection.capabilities.has("STARTTLS");
      if (side.security === "starttls" || (side.security === "auto" && canStartTls)) {
        await connection.expectOk(["STARTTLS"]);
        await connection.upgrade(tlsOptions);
        await connection.refreshCapabilities();
      }
      if (side.accessTokenFile !== undefined) {
        // XOAUTH2 (RFC-less, but what Gmail, Microsoft 365 and Dovecot take), with the freshest token.
        if (!connection.capabilities.has("AUTH=XOAUTH2") || !connection.capabilities.has("SASL-IR")) {
          connection.close();
          return undefined;
        }
        const bearer = `user=${side.user}\x01auth=Bearer ${readAccessToken(side.accessTokenFile)}\x01\x01`;
        await connection.expectOk([`AUTHENTICATE XOAUTH2 ${Buffer.from(bearer, "utf8").toString("base64")}`]);
      } else if (side.authUser !== undefined) {
        // As the admin on behalf of the mailbox: SASL PLAIN's authorization identity, or nothing.
        if (!connection.capabilities.has("AUTH=PLAIN") || !connection.capabilities.has("SASL-IR")) {
          connection.close();
          return undefined;
        }
        const token = Buffer.from(`${side.user}\0${side.authUser}\0${password}`, "utf8").toString("base64");
        await connection.expectOk([`AUTHENTICATE PLAIN ${token}`]);
      } else if (connection.capabilities.has("AUTH=PLAIN") && connection.capabilities.has("SASL-IR")) {
        const token = Buffer.from(`\0${side.user}\0${password}`, "utf8").toString("base64");
        await connection.expectOk([`AUTHENTICATE PLAIN ${token}`]);
      } else {
        await connection.expectOk([`LOGIN ${quoted(side.user)} ${quoted(password)}`]);
      }
      await connection.refreshCapabilities();
      if (!connection.capabilities.has("LITERAL+") || !connection.capabilities.has("MULTIAPPEND")) {
        connection.close();
        return undefined;
      }
      socket.setTimeout(0);
      return connection;
    } catch (e: unknown) {
      connection.close();
      throw e;
    }
  }

  private upgrade(options: { rejectUnauthorized: boolean; servername?: string }): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("close");
    plain.removeAllListeners("error");
    return new Promise<void>((resolve, reject) => {
      const secure = tlsConnect({ socket: plain, ...options }, () => {
        this.socket = secure;
        this.attach(secure);
        resolve();
      });
      secure.once("error", reject);
    });
  }

  /**
   * Appends messages to one folder in a single MULTIAPPEND with non-synchronizing literals.
   * Calls may overlap: the server answers them in order. Returns APPENDUID's UIDs when given.
   */
  async multiAppend(wireMailbox: string, messages: OutgoingMessage[]): Promise<(number | undefined)[]> {
    const parts: (string | Buffer)[] = [`APPEND ${quoted(wireMailbox)}`];
    for (const message of messages) {
      const date = message.internalDate ? ` ${quoted(formatImapDateTime(message.internalDate))}` : "";
      // literal8 (~{n+}) when the body holds NUL bytes, which a plain literal may not carry.
      const marker = message.content.includes(0) && this.capabilities.has("BINARY") ? "~" : "";
      parts.push(
        ` (${message.flags.join(" ")})${date} ${marker}{${message.content.length}+}\r\n`,
        message.content,
      );
    }
    const text = await this.expectOk(parts);
    const match = /^\[APPENDUID \d+ ([0-9:,]+)\]/i.exec(text);
    const uids: number[] = [];
    for (const range of match?.[1]?.split(",") ?? []) {
      const [from, to] = range.split(":").map(Number);
      if (from === undefined || !Number.isInteger(from)) continue;
      const last = to !== undefined && Number.isInteger(to) ? to : from;
      for (let uid = from; uid <= last; uid++) uids.push(uid);
    }
    return messages.map((_message, i) => uids[i]);
  }

  /**
   * Appends one message whose bytes arrive in pieces (a large message read from the source a chunk at
   * a time), writing each piece as it comes so the message is never whole in memory. `size` is the
   * literal's announced length: pieces that add up to anything else leave the literal unfinishable,
   * so the connection is closed (the server drops the partial APPEND) and the error thrown. Must not
   * overlap other commands on this connection. Returns APPENDUID's UID when given.
   */
  async appendStream(
    wireMailbox: string,
    message: { flags: string[]; internalDate: Date | undefined; size: number },
    pieces: AsyncIterable<Buffer>,
  ): Promise<number | undefined> {
    if (this.failure) throw this.failure;
    this.tagCounter += 1;
    const tag = `F${this.tagCounter}`;
    const answered = new Promise<string>((resolve, reject) => {
      this.pending.push({ tag, resolve, reject });
    });
    answered.catch(() => undefined);
    const date = message.internalDate ? ` ${quoted(formatImapDateTime(message.internalDate))}` : "";
    // literal8 where the server takes it: a large message is not scanned for NUL bytes first.
    const marker = this.capabilities.has("BINARY") ? "~" : "";
    this.socket.write(
      `${tag} APPEND ${quoted(wireMailbox)} (${message.flags.join(" ")})${date} ${marker}{${message.size}+}\r\n`,
    );
    let sent = 0;
    try {
      for await (const piece of pieces) {
        sent += piece.length;
        if (sent > message.size) break;
        if (!this.socket.write(piece)) await this.drained();
      }
    } catch (e: unknown) {
      this.close();
      throw e;
    }
    if (sent !== message.size) {
      this.close();
      throw new Error(`The source sent ${sent} bytes of a message announced as ${message.size}.`);
    }
    this.socket.write("\r\n");
    const rest = await answered;
    const space = rest.indexOf(" ");
    const status = (space > 0 ? rest.slice(0, space) : rest).toUpperCase();
    const text = space > 0 ? rest.slice(space + 1) : "";
    if (status !== "OK") throw new AppendCommandError(text, responseCode(text));
    const uid = /^\[APPENDUID \d+ (\d+)\]/i.exec(text)?.[1];
    return uid === undefined ? undefined : Number(uid);
  }

  /** Resolves when the socket can take more, or rejects when the connection failed meanwhile. */
  private drained(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        this.socket.off("drain", done);
        this.socket.off("close", done);
        if (this.failure) reject(this.failure);
        else resolve();
      };
      this.socket.once("drain", done);
      this.socket.once("close", done);
    });
  }

  /** Keeps an idle connection alive; answered in turn with any APPENDs in flight. */
  async noop(): Promise<void> {
    await this.expectOk(["NOOP"]);
  }

  /** Logs out (bounded wait) and closes the socket. */
  async logout(): Promise<void> {
    if (!this.failure) {
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
      await Promise.race([this.command(["LOGOUT"]).catch(() => undefined), deadline]);
    }
    this.close();
  }

  close(): void {
    this.fail(new Error("The append connection was closed."));
    this.socket.destroy();
  }
}
