import { once } from "node:events";
import type { AddressInfo, Server, Socket } from "node:net";
import { connect, createServer } from "node:net";
import type { ImapferryClient } from "@imapferry/sdk";
import { TRPCClientError } from "@imapferry/sdk";
import type { ImapPair, ImapServer } from "@imapferry/testkit";
import { freeClosedPort, startImapPair } from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";
import { adminTokenClient } from "./support/admin-client.ts";

const USER = "alice@example.com";
const SOURCE_PASSWORD = "src-Secret-4711!";
const DEST_PASSWORD = "dst-Secret-0815?";
const DENIED = "This host is not allowed on this installation (IMAPFERRY_DENY_HOSTS).";
const FINAL = new Set(["done", "incomplete", "failed", "cancelled"]);

/** A port that accepts connections and never says a word: what a firewalled or odd service looks like. */
async function startSilentListener(): Promise<{
  port: number;
  connections: () => number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer(function holdSilently(socket) {
    connections++;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Dovecot's log lines about connections and sessions: one appears for every client that connects. */
async function connectionLogLines(server: ImapServer): Promise<string[]> {
  return (await server.readLog()).split("\n").filter((line) => /imap-login|imap\(/.test(line));
}

describe("IMAPFERRY_DENY_HOSTS=127.0.0.0/8,::1 against servers on this machine", () => {
  let server: ApiTestServer;
  let imap: ImapPair;
  let silent: Awaited<ReturnType<typeof startSilentListener>>;
  let client: ImapferryClient;
  const ids = { open: 0, closed: 0, silent: 0, destination: 0 };

  beforeAll(async () => {
    [server, imap, silent] = await Promise.all([
      startApiTestServer({ denyHosts: ["127.0.0.0/8", "::1"] }),
      startImapPair(),
      startSilentListener(),
    ]);
    await imap.source.addUser(USER, SOURCE_PASSWORD);
    await imap.destination.addUser(USER, DEST_PASSWORD);
    ({ client } = await adminTokenClient(server, { name: "test" }));
    // "localhost" is a name, so it can be saved; what it resolves to (127.0.0.1) is checked on connecting.
    const entry = async (name: string, port: number) =>
      (await client.servers.create.mutate({ name, host: "localhost", port, security: "none" })).id;
    ids.open = await entry("dovecot", imap.source.port);
    ids.closed = await entry("closed port", await freeClosedPort());
    ids.silent = await entry("silent port", silent.port);
    ids.destination = await entry("destination", imap.destination.port);
  });

  afterAll(async () => {
    await server?.stop();
    await imap?.stop();
    await silent?.close();
  });

  it("answers the server test with one generic sentence for an open, a closed and a silent port", async () => {
    const before = await connectionLogLines(imap.source);
    const answers = [];
    for (const id of [ids.open, ids.closed, ids.silent]) {
      const started = performance.now();
      const withLogin = await client.servers.test.mutate({ id, email: USER, password: SOURCE_PASSWORD });
      const anonymous = await client.servers.test.mutate({ id });
      answers.push({ withLogin, anonymous, ms: performance.now() - started });
    }
    for (const answer of answers) {
      expect(answer.withLogin).toEqual({ ok: false, category: "denied", sentence: DENIED });
      expect(answer.anonymous).toEqual({ ok: false, category: "denied", sentence: DENIED });
      // Nothing waits on the silent port's 15 s connection timeout: no connection is made at all.
      expect(answer.ms).toBeLessThan(5000);
    }
    expect(silent.connections()).toBe(0);
    expect(await connectionLogLines(imap.source)).toEqual(before);
  });

  it("refuses to save a denied IP address as a server's host, naming the field", async () => {
    const created = await client.servers.create
      .mutate({ name: "loopback", host: "127.0.0.1", port: imap.source.port, security: "none" })
      .catch((e: unknown) => e);
    expect(created).toBeInstanceOf(TRPCClientError);
    expect((created as TRPCClientError<never>).message).toBe(
      "The server's host 127.0.0.1 is not allowed on this installation (IMAPFERRY_DENY_HOSTS).",
    );
    expect((created as TRPCClientError<never>).data).toMatchObject({
      code: "BAD_REQUEST",
      problems: [{ path: ["host"], message: DENIED }],
    });
    const moved = await client.servers.update
      .mutate({ id: ids.silent, host: "[::1]" })
      .catch((e: unknown) => e);
    expect((moved as TRPCClientError<never>).data).toMatchObject({
      code: "BAD_REQUEST",
      problems: [{ path: ["host"], message: DENIED }],
    });
    const hosts = (await client.servers.list.query()).map((s) => s.host);
    expect(hosts).toEqual(["localhost", "localhost", "localhost", "localhost"]);
  });

  it("fails a job to a denied host with the sentence and its category, without connecting to either side", async () => {
    const sourceBefore = await connectionLogLines(imap.source);
    const destBefore = await connectionLogLines(imap.destination);
    const created = await client.jobs.create.mutate({
      name: "to a denied host",
      sourceServerId: ids.open,
      sourceEmail: USER,
      sourcePassword: SOURCE_PASSWORD,
      destServerId: ids.destination,
      destEmail: USER,
      destPassword: DEST_PASSWORD,
    });
    const deadline = Date.now() + 60_000;
    let job = await client.jobs.get.query({ id: created.id });
    while (!FINAL.has(job.status)) {
      if (Date.now() > deadline) throw new Error(`job ${job.id} is still ${job.status} after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = await client.jobs.get.query({ id: created.id });
    }
    expect(job).toMatchObject({
      status: "failed",
      errorCategory: "denied-host",
      errorMessage: "The source server's host is not allowed on this installation (IMAPFERRY_DENY_HOSTS).",
      exitCode: null,
    });
    const log = await (await client.downloadLog(job.id)).text();
    expect(log).toContain(
      "The source server's host is not allowed on this installation (IMAPFERRY_DENY_HOSTS).",
    );
    expect(log).not.toMatch(/Host1: connecting|pre-flight/);
    expect(await connectionLogLines(imap.source)).toEqual(sourceBefore);
    expect(await connectionLogLines(imap.destination)).toEqual(destBefore);
  });

  it("(control) Dovecot's log does show a client that connects, so the checks above can see one", async () => {
    const before = (await connectionLogLines(imap.source)).length;
    const socket = connect(imap.source.port, "127.0.0.1");
    await once(socket, "data");
    socket.destroy();
    const deadline = Date.now() + 10_000;
    while ((await connectionLogLines(imap.source)).length === before) {
      if (Date.now() > deadline) throw new Error("Dovecot logged nothing about a connection within 10 s");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
});
