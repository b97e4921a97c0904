/**
 * A TCP forwarder as its own OS process, so a test can freeze it with SIGSTOP: every connection through
 * it then hangs with no error and no close (packets sit in kernel buffers), as behind a partition or a
 * stuck NAT; SIGCONT lets them flow again. Killing it is an outage: connections drop, new ones are
 * refused. Configured through the environment (PROXY_TARGET_HOST, PROXY_TARGET_PORT, PROXY_PORT: 0 for
 * any); prints {"port":N} once it listens on 127.0.0.1.
 */
import net from "node:net";

const targetHost = process.env.PROXY_TARGET_HOST ?? "127.0.0.1";
const targetPort = Number(process.env.PROXY_TARGET_PORT);

const server = net.createServer(function forward(client) {
  const upstream = net.connect(targetPort, targetHost);
  client.pipe(upstream);
  upstream.pipe(client);
  const closeBoth = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", closeBoth);
  upstream.on("error", closeBoth);
  client.on("close", closeBoth);
  upstream.on("close", closeBoth);
});
server.listen(Number(process.env.PROXY_PORT ?? "0"), "127.0.0.1", function announce() {
  const address = server.address() as net.AddressInfo;
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
