import { createHmac } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedHook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered. */
  status: number;
}

export interface WebhookReceiver {
  /** The receiver's URL for `path` (each endpoint of a test gets its own path). */
  url(path: string): string;
  received: ReceivedHook[];
  /** The codes the next requests to `path` are answered with, in order; then 200. */
  answerNext(path: string, ...statuses: number[]): void;
  close(): Promise<void>;
}

/**
 * A webhook receiver: records every request and answers each path with the next code of its script
 * (then 200), so a test can make it fail first.
 */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  const scripts = new Map<string, number[]>();
  const server: Server = createServer(function receiveHook(req, res) {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = req.url ?? "/";
      const status = scripts.get(path)?.shift() ?? 200;
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), status });
      res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "thanks" : "not now");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    answerNext(path, ...statuses) {
      scripts.set(path, statuses);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The receiver's own check, written as a panel would (not with imapferry's helper). */
export function signatureMatches(secret: string, hook: ReceivedHook): boolean {
  const header = String(hook.headers["imapferry-signature"] ?? "");
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const expected = createHmac("sha256", secret).update(`${match[1]}.${hook.body}`).digest("hex");
  return expected === match[2];
}
