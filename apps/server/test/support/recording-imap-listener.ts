import { once } from "node:events";
import type { AddressInfo, Server, Socket } from "node:net";
import { createServer } from "node:net";

/**
 * An attacker's IMAP server: a plain TCP listener that speaks just enough IMAP (greeting, CAPABILITY,
 * AUTHENTICATE PLAIN, LOGIN) for a client to hand over its credentials, and records every line it
 * receives. It refuses every login. Not a stand-in for a real server: tests that need one use Dovecot.
 */
export interface RecordingImapListener {
  port: number;
  /** Every line received, decoded (AUTHENTICATE PLAIN responses are base64-decoded too). */
  readonly received: string[];
  /** Whether any received line contains `text`. */
  heard(text: string): boolean;
  close(): Promise<void>;
}

export async function startRecordingImapListener(): Promise<RecordingImapListener> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer(function onConnection(socket) {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffered = "";
    let pendingAuthTag: string | null = null;
    socket.write("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n");
    socket.on("data", function onData(chunk: Buffer) {
      buffered += chunk.toString("latin1");
      for (let end = buffered.indexOf("\r\n"); end >= 0; end = buffered.indexOf("\r\n")) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        received.push(line);
        if (pendingAuthTag !== null) {
          received.push(Buffer.from(line, "base64").toString("utf8").replaceAll("\0", " "));
          socket.write(`${pendingAuthTag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n`);
          pendingAuthTag = null;
          continue;
        }
        const [tag = "*", command = "", ...rest] = line.split(" ");
        switch (command.toUpperCase()) {
          case "CAPABILITY":
            socket.write(`* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n${tag} OK done\r\n`);
            break;
          case "AUTHENTICATE":
            if (rest.length > 1) {
              received.push(
                Buffer.from(rest[1] ?? "", "base64")
                  .toString("utf8")
                  .replaceAll("\0", " "),
              );
              socket.write(`${tag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n`);
            } else {
              pendingAuthTag = tag;
              socket.write("+ \r\n");
            }
            break;
          case "LOGIN":
            socket.write(`${tag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n`);
            break;
          case "LOGOUT":
            socket.end(`* BYE\r\n${tag} OK bye\r\n`);
            break;
          default:
            socket.write(`${tag} BAD unknown command\r\n`);
        }
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    received,
    heard: (text) => received.some((line) => line.includes(text)),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
