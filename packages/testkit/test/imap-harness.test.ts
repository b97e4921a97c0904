import { existsSync } from "node:fs";
import { ImapFlow } from "imapflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  corpusMessage,
  freeClosedPort,
  generateLargeMailbox,
  type ImapPair,
  type ImapServer,
  readMailbox,
  seedMailbox,
  snapshotOfSpec,
  standardMailboxSpec,
  startImapPair,
  startImapServer,
} from "../src/index.ts";
import { isPortRefused } from "./support/port-probe.ts";

/** Resolves once a TCP connection to the port is refused (the server is gone), polling with a deadline. */
async function waitUntilRefused(port: number, deadlineMs = 20_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (await isPortRefused(port)) return;
    if (Date.now() > deadline) throw new Error(`127.0.0.1:${port} still accepts connections`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function client(server: ImapServer, user: string, password: string, tls = false): ImapFlow {
  const imap = new ImapFlow(server.imapflowOptions({ user, password }, { tls }));
  imap.on("error", () => {});
  return imap;
}

describe("a Dovecot pair", () => {
  let pair: ImapPair;
  beforeAll(async () => {
    pair = await startImapPair();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it("reads a seeded standard mailbox back exactly as seeded, non-ASCII folder names included", async () => {
    const alice = await pair.source.addUser("alice@example.com", "alice-secret");
    const spec = standardMailboxSpec();
    await seedMailbox(pair.source, alice.user, alice.password, spec);

    const snapshot = await readMailbox(pair.source, alice.user, alice.password);

    expect(snapshot).toEqual(snapshotOfSpec(spec));
    expect(snapshot.folders.map((folder) => folder.path)).toEqual([
      "Archiv",
      "Archiv/2024",
      "Archiv/2024/Café ☕",
      "Archive",
      "Archive/2024",
      "Entwürfe",
      "INBOX",
      "Sent",
    ]);
    const inbox = snapshot.folders.find((folder) => folder.path === "INBOX");
    expect(inbox?.messages.some((message) => message.flags.length === 0)).toBe(true);
    // Reading is read-only: unseen messages stay unseen.
    expect(await readMailbox(pair.source, alice.user, alice.password)).toEqual(snapshot);
  });

  it("keeps source and destination apart: the same user has separate mail on each", async () => {
    const onSource = await pair.source.addUser("carol@example.com", "pw-on-source");
    const onDestination = await pair.destination.addUser("carol@example.com", "pw-on-destination");
    await seedMailbox(pair.source, onSource.user, onSource.password, standardMailboxSpec());

    const destination = await readMailbox(pair.destination, onDestination.user, onDestination.password);

    expect(destination).toEqual({ folders: [{ path: "INBOX", messages: [] }] });
    await expect(readMailbox(pair.destination, onSource.user, onSource.password)).rejects.toMatchObject({
      authenticationFailed: true,
    });
  });

  it("rejects a wrong password at once", async () => {
    const dave = await pair.source.addUser("dave@example.com", "right-password");
    const started = Date.now();
    const imap = client(pair.source, dave.user, "wrong-password");
    await expect(imap.connect()).rejects.toMatchObject({ authenticationFailed: true });
    // Dovecot's default failure delay and brute-force penalty would take seconds.
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("serves implicit TLS with its self-signed certificate", async () => {
    const erin = await pair.source.addUser("erin@example.com", "erin-secret");
    const imap = client(pair.source, erin.user, erin.password, true);
    await imap.connect();
    expect(imap.secureConnection).toBe(true);
    await imap.logout();

    const trusting = new ImapFlow({
      ...pair.source.imapflowOptions(erin, { tls: true }),
      tls: { ca: pair.source.certificatePem, servername: "localhost" },
    });
    trusting.on("error", () => {});
    await trusting.connect();
    await trusting.logout();
  });

  it("refuses an APPEND beyond a user's quota and announces special-use folders", async () => {
    const kim = await pair.destination.addUser("kim@example.com", "kim-secret", { quotaBytes: 100_000 });
    await seedMailbox(pair.destination, kim.user, kim.password, {
      folders: [
        { path: "Sent", messages: [{ source: corpusMessage("tiny.eml"), internalDate: new Date() }] },
      ],
    });
    await expect(
      seedMailbox(pair.destination, kim.user, kim.password, {
        folders: [{ path: "INBOX", messages: [{ source: corpusMessage("large-1mb.eml") }] }],
      }),
    ).rejects.toMatchObject({ serverResponseCode: "OVERQUOTA" });

    const imap = client(pair.destination, kim.user, kim.password);
    await imap.connect();
    const sent = (await imap.list()).find((folder) => folder.path === "Sent");
    await imap.logout();
    expect(sent?.specialUse).toBe("\\Sent");
  });

  it("counts the sessions a user had open at the same time", async () => {
    const frank = await pair.destination.addUser("frank@example.com", "frank-secret");
    const other = await pair.destination.addUser("otto@example.com", "otto-secret");
    const first = client(pair.destination, frank.user, frank.password);
    const second = client(pair.destination, frank.user, frank.password);
    const third = client(pair.destination, other.user, other.password);
    await first.connect();
    await second.connect();
    await third.connect();
    await Promise.all([first.logout(), second.logout(), third.logout()]);
    const later = client(pair.destination, frank.user, frank.password);
    await later.connect();
    await later.logout();

    expect(await pair.destination.maxConcurrentSessions(frank.user)).toBe(2);
    expect(await pair.destination.maxConcurrentSessions(other.user)).toBe(1);
    // Earlier tests' sessions on this server all ran one at a time.
    expect(await pair.destination.maxConcurrentSessions()).toBe(3);
    expect(await pair.destination.maxConcurrentSessions("nobody@example.com")).toBe(0);
  });

  it("cuts a user's open connections on kick()", async () => {
    const lena = await pair.source.addUser("lena@example.com", "lena-secret");
    const imap = client(pair.source, lena.user, lena.password);
    const closed = new Promise<void>((resolve) => imap.once("close", () => resolve()));
    await imap.connect();
    await pair.source.kick(lena.user);
    await closed;
    expect(imap.usable).toBe(false);
  });

  it("counts one session when a user's sessions follow each other", async () => {
    const grace = await pair.destination.addUser("grace@example.com", "grace-secret");
    for (let round = 0; round < 5; round++) {
      const imap = client(pair.destination, grace.user, grace.password);
      await imap.connect();
      await imap.logout();
    }
    expect(await pair.destination.maxConcurrentSessions(grace.user)).toBe(1);
  });

  it("puts a generated mailbox straight into Maildir, readable over IMAP", async () => {
    const generated = generateLargeMailbox({ messages: 40, folders: 5, seed: 7, averageSize: 20_000 });
    const henry = await pair.destination.addUser("henry@example.com", "henry-secret");
    // Mail already there keeps its keywords: seedMaildir extends the folder's keyword table.
    const earlier = {
      source: corpusMessage("plain-ascii.eml"),
      flags: ["$Custom"],
      internalDate: "2020-01-01T00:00:00Z",
    };
    await seedMailbox(pair.destination, henry.user, henry.password, {
      folders: [{ path: "INBOX", messages: [earlier] }],
    });
    await pair.destination.seedMaildir(henry.user, generated);

    const snapshot = await readMailbox(pair.destination, henry.user, henry.password);

    const expected = snapshotOfSpec({
      folders: [
        { path: "INBOX", messages: [earlier] },
        ...generated.folders.map((folder) => ({
          path: folder,
          messages: [...generated.messages()]
            .filter((message) => message.folder === folder)
            .map((message) => ({
              source: message.source(),
              flags: message.flags,
              internalDate: message.internalDate,
            })),
        })),
      ],
    });
    expect(new Set(snapshot.folders.flatMap((folder) => folder.messages.flatMap((m) => m.flags)))).toContain(
      "$Work",
    );
    expect(snapshot).toEqual(expected);
  });
});

describe("a Dovecot with master users", () => {
  let server: ImapServer;
  beforeAll(async () => {
    server = await startImapServer({ name: "masters", masterUsers: true });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("lets a master log in for a plain-named user by SASL authzid and as user*master, not with a wrong password", async () => {
    await server.addUser("alice", "alice-secret");
    await server.addMasterUser("admin", "admin-secret");

    const byAuthzid = new ImapFlow({
      ...server.imapflowOptions({ user: "admin", password: "admin-secret" }),
      auth: { user: "admin", pass: "admin-secret", authzid: "alice", loginMethod: "AUTH=PLAIN" },
    });
    byAuthzid.on("error", () => {});
    await byAuthzid.connect();
    await byAuthzid.logout();

    const bySeparator = client(server, "alice*admin", "admin-secret");
    await bySeparator.connect();
    await bySeparator.logout();

    const plain = client(server, "alice", "alice-secret");
    await plain.connect();
    await plain.logout();

    const wrong = client(server, "alice*admin", "not-it");
    await expect(wrong.connect()).rejects.toMatchObject({ authenticationFailed: true });
    const nobody = client(server, "nobody*admin", "admin-secret");
    await expect(nobody.connect()).rejects.toMatchObject({ authenticationFailed: true });
  });
});

describe("Dovecot instances", () => {
  it("run side by side without interfering, and stop() takes one down completely", async () => {
    const [first, second] = await Promise.all([startImapPair(), startImapPair()]);
    try {
      const ports = [first, second].flatMap((pair) =>
        [pair.source, pair.destination].flatMap((server) => [server.port, server.tlsPort]),
      );
      expect(new Set(ports).size).toBe(8);
      const inFirst = await first.source.addUser("ivan@example.com", "ivan-secret");
      await seedMailbox(first.source, inFirst.user, inFirst.password, {
        folders: [{ path: "Only here", messages: [] }],
      });
      const inSecond = await second.source.addUser("ivan@example.com", "ivan-secret");

      await first.stop();
      await waitUntilRefused(first.source.port);
      expect(existsSync(first.source.rootDir)).toBe(false);

      const snapshot = await readMailbox(second.source, inSecond.user, inSecond.password);
      expect(snapshot.folders.map((folder) => folder.path)).toEqual(["INBOX"]);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it("offers a loopback port where nothing listens", async () => {
    const port = await freeClosedPort();
    await waitUntilRefused(port, 1_000);
  });
});
