import { connect as connectTcp, createServer, type Socket } from "node:net";

/**
 * A TCP relay in front of a server that counts the connections open through it: what a limit on a
 * server's connections is about, seen at the server's door. Unlike a server's log, whose lines can be
 * written late on a loaded machine, a connection counts from the moment it is accepted to the moment
 * either side closes it. Passes bytes through untouched, so TLS works through it.
 */
export interface CountingProxy {
  port: number;
  /** The most connections that were open at the same time so far. */
  readonly mostOpenAtOnce: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startCountingProxy(target: { host: string; port: number }): Promise<CountingProxy> {
  const sockets = new Set<Socket>();
  let open = 0;
  let mostOpenAtOnce = 0;
  let accepted = 0;

  const listener = createServer((client) => {
    accepted++;
    open++;
    mostOpenAtOnce = Math.max(mostOpenAtOnce, open);
    const server = connectTcp(target);
    let counted = true;
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        sockets.delete(socket);
        if (counted) {
          counted = false;
          open--;
        }
        client.destroy();
        server.destroy();
      });
    }
    client.pipe(server);
    server.pipe(client);
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const address = listener.address();
  if (address === null || typeof address === "string") throw new Error("the counting proxy has no port");
  return {
    port: address.port,
    get mostOpenAtOnce() {
      return mostOpenAtOnce;
    },
    get accepted() {
      return accepted;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}
