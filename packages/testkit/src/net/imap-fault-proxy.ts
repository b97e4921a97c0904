import { connect as connectTcp, createServer, type Server, type Socket } from "node:net";

/**
 * A plain-IMAP proxy in front of a real server that answers some commands itself, the way throttling
 * providers do, and forwards everything else untouched. For tests of what the engines and the job
 * system do with a server that pushes back.
 */
export interface ImapFaultProxy {
  port: number;
  /**
   * The next `count` message downloads (FETCH of a whole body: BODY.PEEK[], BODY[], RFC822) are
   * answered `NO [THROTTLED] … Suggested Backoff Time: <waitMs> milliseconds` (Office 365's words)
   * instead of reaching the server.
   */
  throttleDownloads(count: number, waitMs: number): void;
  /**
   * The next `count` message downloads are answered `* BYE [THROTTLED] Request is throttled. Suggested
   * Backoff Time: <waitMs> milliseconds` and the connection is closed, as Office 365 does.
   */
  throttleDownloadsWithBye(count: number, waitMs: number): void;
  /** How many commands were answered with a throttle so far. */
  readonly throttled: number;
  /**
   * Drops a connection (client and server side, no BYE) when the bytes sent from the server to the
   * clients, counted over all connections from the proxy's start, pass each of these offsets: with
   * offsets inside a migration's download, each cut lands in the middle of a FETCH.
   */
  cutAtDownloadedBytes(offsets: readonly number[]): void;
  /** Bytes sent from the server to the clients so far. */
  readonly downloadedBytes: number;
  /** How many connections were cut so far. */
  readonly cuts: number;
  /**
   * Every command the clients sent so far, by name only ("STATUS", "UID FETCH", "LOGIN"), never with
   * its arguments (a LOGIN's would be a password): what a test asserts a run did, or did not, ask.
   */
  readonly commands: readonly string[];
  /** FETCH commands so far that read message headers (a HEADER or HEADER.FIELDS section). */
  readonly headerReads: number;
  close(): Promise<void>;
}

/** A FETCH that downloads whole messages (not the header-only ones a scan sends). */
const BODY_FETCH = /^\S+ (?:UID )?FETCH .*(?:BODY(?:\.PEEK)?\[\]|\bRFC822\b(?![.\w]))/i;
/** A FETCH that reads headers: what identifying messages costs a server. */
const HEADER_FETCH = /^\S+ (?:UID )?FETCH .*\[HEADER(?:\.FIELDS)?\b/i;
/** A line that ends with a literal announcement: its bytes follow and are not a command. */
const LITERAL = /\{(\d+)\+?\}\r?\n$/;

/** "A12 UID FETCH 1:* (FLAGS)" → "UID FETCH"; "A1 LOGIN user pass" → "LOGIN". */
function commandName(line: string): string {
  const words = line.trim().split(" ");
  const name = (words[1] ?? "").toUpperCase();
  return name === "UID" ? `UID ${(words[2] ?? "").toUpperCase()}` : name;
}

export async function startImapFaultProxy(target: { host: string; port: number }): Promise<ImapFaultProxy> {
  let pendingThrottles = 0;
  let pendingByes = 0;
  let throttleWaitMs = 0;
  let throttled = 0;
  let downloaded = 0;
  let cuts = 0;
  let cutOffsets: number[] = [];
  const commands: string[] = [];
  let headerReads = 0;
  const sockets = new Set<Socket>();

  function relay(client: Socket): void {
    const server = connectTcp(target);
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        sockets.delete(socket);
        client.destroy();
        server.destroy();
      });
    }
    server.on("data", (chunk: Buffer) => {
      const next = cutOffsets[0];
      if (next !== undefined && downloaded + chunk.length >= next) {
        // Deliver up to the offset, then drop both sides without a word, as a failing network does.
        cutOffsets.shift();
        cuts++;
        client.write(chunk.subarray(0, Math.max(0, next - downloaded)));
        downloaded = next;
        client.destroy();
        server.destroy();
        return;
      }
      downloaded += chunk.length;
      client.write(chunk);
    });
    // Client → server is read line by line (commands), passing literal bytes through as they are.
    let buffered = Buffer.alloc(0);
    let literalLeft = 0;
    // The line after a literal's bytes goes on with the same command.
    let continuing = false;
    client.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        if (literalLeft > 0) {
          const take = Math.min(literalLeft, buffered.length);
          if (take === 0) return;
          server.write(buffered.subarray(0, take));
          buffered = buffered.subarray(take);
          literalLeft -= take;
          continue;
        }
        const end = buffered.indexOf(0x0a);
        if (end < 0) return;
        const line = buffered.subarray(0, end + 1);
        buffered = buffered.subarray(end + 1);
        const text = line.toString("latin1");
        const literal = LITERAL.exec(text);
        if (!continuing) commands.push(commandName(text));
        if (!continuing && HEADER_FETCH.test(text)) headerReads++;
        continuing = literal !== null;
        if (literal) literalLeft = Number(literal[1]);
        if (!literal && pendingByes > 0 && BODY_FETCH.test(text)) {
          pendingByes--;
          throttled++;
          client.end(
            `* BYE [THROTTLED] Request is throttled. Suggested Backoff Time: ${throttleWaitMs} milliseconds\r\n`,
          );
          server.destroy();
          return;
        }
        if (!literal && pendingThrottles > 0 && BODY_FETCH.test(text)) {
          pendingThrottles--;
          throttled++;
          const tag = text.split(" ", 1)[0];
          client.write(
            `${tag} NO [THROTTLED] Request is throttled. Suggested Backoff Time: ${throttleWaitMs} milliseconds\r\n`,
          );
          continue;
        }
        server.write(line);
      }
    });
  }

  const listener: Server = createServer(relay);
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const address = listener.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    throttleDownloads(count, waitMs) {
      pendingThrottles = count;
      throttleWaitMs = waitMs;
    },
    throttleDownloadsWithBye(count, waitMs) {
      pendingByes = count;
      throttleWaitMs = waitMs;
    },
    get throttled() {
      return throttled;
    },
    cutAtDownloadedBytes(offsets) {
      cutOffsets = [...offsets].sort((a, b) => a - b).filter((offset) => offset > downloaded);
    },
    get downloadedBytes() {
      return downloaded;
    },
    get cuts() {
      return cuts;
    },
    get commands() {
      return commands;
    },
    get headerReads() {
      return headerReads;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}
