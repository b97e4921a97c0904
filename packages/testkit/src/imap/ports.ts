import { createServer } from "node:net";

/** Asks the kernel for a loopback port that is free right now (it can be taken again before use). */
export function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, function onListening() {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("The kernel gave no port for 127.0.0.1:0."));
        return;
      }
      const { port } = address;
      server.close(function onClosed() {
        resolve(port);
      });
    });
  });
}

/**
 * A loopback port where nothing listens, for "connection refused" tests. The kernel handed it out and we
 * closed it at once, so nothing else is bound to it unless another process grabs it in between.
 */
export function freeClosedPort(): Promise<number> {
  return freePort();
}
