import { connect } from "node:net";

/** Whether a TCP connection to 127.0.0.1:`port` is refused right now (nothing listens there). */
export function isPortRefused(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}
