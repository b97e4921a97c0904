import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import { createServer } from "node:net";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ImapPair, ImapServer, MailboxSnapshot } from "@imapferry/testkit";
import {
  corpusMessage,
  freeClosedPort,
  generateLargeMailbox,
  readMailbox,
  seedMailbox,
  standardMailboxSpec,
  startImapPair,
  unidentifiableMailboxSpec,
} from "@imapferry/testkit";
import { ImapFlow } from "imapflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImapsyncStatistics, ParsedEvent } from "../src/engines/imapsync/parser.ts";
import { parseOutput } from "../src/engines/imapsync/parser.ts";
import { HEADERLESS, messageCount, sha256, withoutMessages } from "./support/mailbox-snapshot.ts";

/*
 * The built-in engine as the worker runs it: a child process, flags in argv, passwords in
 * IMAPSYNC_PASSWORD1/2, imapsync-shaped lines on stdout, an exit code. Run from its TypeScript
 * source through tsx, so the test needs no build step and never runs a stale dist.
 */
const CLI = fileURLToPath(new URL("../src/engines/builtin/cli.ts", import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

interface EngineRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: string[];
  events: ParsedEvent[];
}

interface RunningEngine {
  child: ChildProcess;
  lines: string[];
  /** Resolves once a line satisfies the predicate (or rejects if the engine ends first). */
  waitForLines(predicate: (lines: string[]) => boolean): Promise<void>;
  done: Promise<EngineRun>;
}

function startEngine(args: string[], password1: string, password2: string): RunningEngine {
  const child = spawn(process.execPath, ["--import", TSX, CLI, ...args], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      IMAPSYNC_PASSWORD1: password1,
      IMAPSYNC_PASSWORD2: password2,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const watchers = new Set<() => void>();
  let pending = "";
  function take(chunk: Buffer): void {
    pending += chunk.toString("utf8");
    const parts = pending.split("\n");
    pending = parts.pop() ?? "";
    lines.push(...parts);
    for (const watcher of watchers) watcher();
  }
  child.stdout?.on("data", take);
  child.stderr?.on("data", take);
  const done = new Promise<EngineRun>((resolve) => {
    child.on("close", function onClose(code, signal) {
      if (pending) lines.push(pending);
      for (const watcher of watchers) watcher();
      resolve({ code, signal, lines, events: parseOutput(lines.join("\n")) });
    });
  });
  let ended = false;
  void done.then(() => {
    ended = true;
  });
  function waitForLines(predicate: (all: string[]) => boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      function check(): void {
        if (predicate(lines)) {
          watchers.delete(check);
          resolve();
        } else if (ended || child.exitCode !== null) {
          watchers.delete(check);
          reject(new Error(`The engine ended first:\n${lines.slice(-30).join("\n")}`));
        }
      }
      watchers.add(check);
      check();
    });
  }
  return { child, lines, waitForLines, done };
}

function runEngine(args: string[], password1: string, password2: string): Promise<EngineRun> {
  return startEngine(args, password1, password2).done;
}

function statistics(run: EngineRun): ImapsyncStatistics {
  const event = run.events.find((e) => e.type === "statistics");
  if (event?.type !== "statistics") {
    throw new Error(`No statistics block in:\n${run.lines.slice(-40).join("\n")}`);
  }
  return event.stats;
}

function exitLine(run: EngineRun): { code: number; name: string } {
  const event = run.events.find((e) => e.type === "exit");
  if (event?.type !== "exit") throw new Error(`No exit line in:\n${run.lines.slice(-20).join("\n")}`);
  return { code: event.code, name: event.name };
}

let pair: ImapPair;
let userCounter = 0;

interface Account {
  user: string;
  sourcePassword: string;
  destinationPassword: string;
}

/** A fresh user on both servers, so each test starts from its own empty mailboxes. */
async function newAccount(): Promise<Account> {
  userCounter += 1;
  const user = `user${userCounter}@example.com`;
  // Distinct, recognisable passwords: the tests assert neither ever appears in the output.
  const account = {
    user,
    sourcePassword: `src-Secret-${userCounter}-x9`,
    destinationPassword: `dst-Secret-${userCounter}-y7`,
  };
  await pair.source.addUser(user, account.sourcePassword);
  await pair.destination.addUser(user, account.destinationPassword);
  return account;
}

/** A fresh account whose source mailbox holds the standard corpus. */
async function newSeededAccount(): Promise<Account> {
  const account = await newAccount();
  await seedMailbox(pair.source, account.user, account.sourcePassword, standardMailboxSpec());
  return account;
}

/** Where the account lives on the source server; `port` picks the plain or the TLS port. */
function sourceArgs(account: Account, port = pair.source.port): string[] {
  return ["--host1", pair.source.host, "--port1", String(port), "--user1", account.user];
}

/** Where the account lives on the destination server (its plain port). */
function destinationArgs(account: Account): string[] {
  return [
    "--host2",
    pair.destination.host,
    "--port2",
    String(pair.destination.port),
    "--user2",
    account.user,
  ];
}

/** Plain IMAP on both sides (the harness offers STARTTLS with a self-signed certificate). */
function plainArgs(account: Account, extra: string[] = []): string[] {
  return [
    ...sourceArgs(account),
    ...destinationArgs(account),
    "--nossl1",
    "--notls1",
    "--nossl2",
    "--notls2",
    "--noreleasecheck",
    "--nofoldersizes",
    "--nolog",
    ...extra,
  ];
}

/** A run over plain IMAP (`plainArgs`) with the account's own passwords. */
function runPlain(account: Account, extra: string[] = []): Promise<EngineRun> {
  return runEngine(plainArgs(account, extra), account.sourcePassword, account.destinationPassword);
}

function read(
  server: ImapServer,
  account: Account,
  side: "source" | "destination",
): Promise<MailboxSnapshot> {
  return readMailbox(
    server,
    account.user,
    side === "source" ? account.sourcePassword : account.destinationPassword,
  );
}

/** The folders the user is subscribed to ("/"-separated, UTF-8), sorted. */
async function subscribedFolders(server: ImapServer, user: string, password: string): Promise<string[]> {
  const client = new ImapFlow(server.imapflowOptions({ user, password }));
  client.on("error", () => {});
  await client.connect();
  try {
    const entries = await client.list();
    return entries
      .filter((entry) => entry.subscribed)
      .map((entry) => entry.path)
      .sort();
  } finally {
    await client.logout();
  }
}

/** `folder/uid` of every message a run copied, or under --dry would copy, as the parser reads them. */
function messagesActedOn(run: EngineRun, action: "copied" | "dry-run"): string[] {
  return run.events
    .flatMap((event) =>
      event.type === "message" && event.action === action ? [`${event.folder}/${event.uid}`] : [],
    )
    .sort();
}

interface DryFigures {
  /** The messages named by `copying to … (not really since --dry mode)` lines. */
  wouldCopy: string[];
  /** `Messages transferred : 0 (could be N without dry mode)`. */
  statistic: number | undefined;
}

/**
 * A dry run, the real run, then a dry run again, all with `extra` options: what each says it
 * would copy or did copy.
 */
async function dryRealDry(
  account: Account,
  extra: string[] = [],
): Promise<{
  dry: DryFigures;
  real: { copied: string[]; statistic: number | undefined };
  after: DryFigures;
}> {
  async function dryRun(): Promise<DryFigures> {
    const run = await runPlain(account, ["--dry", ...extra]);
    expect(run.code, run.lines.join("\n")).toBe(0);
    expect(statistics(run).messagesTransferred).toBe(0);
    return { wouldCopy: messagesActedOn(run, "dry-run"), statistic: statistics(run).messagesWouldTransfer };
  }
  const dry = await dryRun();
  const real = await runPlain(account, extra);
  expect(real.code, real.lines.join("\n")).toBe(0);
  const after = await dryRun();
  return {
    dry,
    real: { copied: messagesActedOn(real, "copied"), statistic: statistics(real).messagesTransferred },
    after,
  };
}

function expectNoPassword(run: EngineRun, account: Account): void {
  const output = run.lines.join("\n");
  expect(output).not.toContain(account.sourcePassword);
  expect(output).not.toContain(account.destinationPassword);
}

beforeAll(async () => {
  pair = await startImapPair();
});

afterAll(async () => {
  await pair?.stop();
});

describe("imapferry-sync", () => {
  it("migrates the standard corpus byte for byte with flags, internal dates and the folder tree, over TLS, leaving the source unchanged, folders copied in parallel", async () => {
    const account = await newSeededAccount();
    const sourceBefore = await read(pair.source, account, "source");

    const run = await runEngine(
      [
        ...sourceArgs(account, pair.source.tlsPort),
        ...["--ssl1", "--sslargs1", "SSL_verify_mode=0"],
        ...destinationArgs(account),
        ...["--tls2", "--sslargs2", "SSL_verify_mode=0"],
        ...["--connections", "4"],
        "--noreleasecheck",
      ],
      account.sourcePassword,
      account.destinationPassword,
    );

    expect(run.code, run.lines.join("\n")).toBe(0);
    expect(exitLine(run)).toEqual({ code: 0, name: "EX_OK" });
    const destination = await read(pair.destination, account, "destination");
    // Header-less messages included: they are identified by content and arrive unchanged.
    expect(destination).toEqual(sourceBefore);
    expect(destination.folders.map((folder) => folder.path)).toContain("Archiv/2024/Café ☕");
    expect(destination.folders.map((folder) => folder.path)).toContain("Entwürfe");
    const stats = statistics(run);
    expect(stats.messagesTransferred).toBe(messageCount(sourceBefore));
    expect(stats.unidentifiedOnSource).toBe(0);
    expect(stats.errors).toBe(0);
    expect(run.lines.some((line) => line.includes("ignored (no wanted headers"))).toBe(false);
    expect(run.lines).toContain(
      "Folder     3/8 [Archiv/2024/Caf&AOk- &JhU-] = [Archiv/2024/Café ☕] -> [Archiv/2024/Caf&AOk- &JhU-] = [Archiv/2024/Café ☕]",
    );

    expect(await read(pair.source, account, "source")).toEqual(sourceBefore);
    expectNoPassword(run, account);

    const rerun = await runPlain(account);
    expect(rerun.code, rerun.lines.join("\n")).toBe(0);
    expect(statistics(rerun).messagesTransferred).toBe(0);
    expect(rerun.lines.some((line) => line.startsWith("msg "))).toBe(false);
    expect(await read(pair.destination, account, "destination")).toEqual(destination);
  });

  it("with --addheader copies header-less messages with imapsync's Message-Id, and a rerun copies nothing", async () => {
    const account = await newSeededAccount();
    const source = await read(pair.source, account, "source");

    const run = await runPlain(account, ["--addheader"]);
    expect(run.code, run.lines.join("\n")).toBe(0);
    expect(statistics(run).messagesTransferred).toBe(messageCount(source));

    const destination = await read(pair.destination, account, "destination");
    expect(messageCount(destination)).toBe(messageCount(source));
    // no-message-id-1.eml is UID 2 in Archive, no-message-id-2.eml UID 2 in Archive/2024.
    const expectedAdded = [
      sha256(
        Buffer.concat([Buffer.from("Message-Id: <2@imapsync>\r\n"), corpusMessage("no-message-id-1.eml")]),
      ),
      sha256(
        Buffer.concat([Buffer.from("Message-Id: <2@imapsync>\r\n"), corpusMessage("no-message-id-2.eml")]),
      ),
    ];
    const destinationHashes = destination.folders.flatMap((folder) => folder.messages.map((m) => m.sha256));
    expect(destinationHashes).toEqual(expect.arrayContaining(expectedAdded));
    expect(withoutMessages(destination, new Set(expectedAdded))).toEqual(withoutMessages(source, HEADERLESS));

    const rerun = await runPlain(account, ["--addheader"]);
    expect(rerun.code, rerun.lines.join("\n")).toBe(0);
    expect(statistics(rerun).messagesTransferred).toBe(0);
    expect(await read(pair.destination, account, "destination")).toEqual(destination);
  });

  it("copies messages without a Message-ID, with a malformed one, with headers another message shares, and source duplicates, unchanged and as often as the source holds them; a rerun copies nothing", async () => {
    const account = await newAccount();
    await seedMailbox(pair.source, account.user, account.sourcePassword, unidentifiableMailboxSpec());
    const source = await read(pair.source, account, "source");
    expect(messageCount(source)).toBe(11);

    const run = await runPlain(account);
    expect(run.code, run.lines.join("\n")).toBe(0);
    expect(statistics(run).messagesTransferred).toBe(11);
    expect(await read(pair.destination, account, "destination")).toEqual(source);

    const rerun = await runPlain(account);
    expect(rerun.code, rerun.lines.join("\n")).toBe(0);
    expect(statistics(rerun).messagesTransferred).toBe(0);
    expect(await read(pair.destination, account, "destination")).toEqual(source);

    // One copy of the byte-identical pair goes missing on the destination: the next run puts back
    // exactly that one.
    const client = new ImapFlow(
      pair.destination.imapflowOptions({ user: account.user, password: account.destinationPassword }),
    );
    client.on("error", () => {});
    await client.connect();
    try {
      await client.mailboxOpen("INBOX");
      await client.messageDelete("2");
    } finally {
      await client.logout();
    }
    const again = await runPlain(account);
    expect(again.code, again.lines.join("\n")).toBe(0);
    expect(statistics(again).messagesTransferred).toBe(1);
    expect(messageCount(await read(pair.destination, account, "destination"))).toBe(11);
  });

  it("streams messages over 4 MB from the source into one APPEND in pieces: byte for byte with flags and dates, a header-less one with its added Message-Id, and a rerun copies nothing", async () => {
    const account = await newAccount();
    // Binary-ish bodies (every byte value but NUL, CR and LF inside lines) of 5 MB and 9 MB, a small
    // message between them, and a large one without a Message-ID.
    const body = (size: number, seed: number) => {
      const line = Buffer.alloc(998);
      for (let i = 0; i < line.length; i++) line[i] = 32 + ((i * 7 + seed) % 94);
      const lines = Math.ceil(size / 1000);
      return Buffer.concat(Array.from({ length: lines }, () => Buffer.concat([line, Buffer.from("\r\n")])));
    };
    const message = (subject: string, size: number, seed: number, id = true) =>
      Buffer.concat([
        Buffer.from(
          `From: Big <big@example.org>\r\nTo: ${account.user}\r\nSubject: ${subject}\r\n${id ? `Message-ID: <${subject}@example.org>\r\n` : ""}Date: Mon, 02 Nov 2026 10:00:00 +0000\r\n\r\n`,
        ),
        body(size, seed),
      ]);
    await seedMailbox(pair.source, account.user, account.sourcePassword, {
      folders: [
        {
          path: "INBOX",
          messages: [
            {
              source: message("five", 5_000_000, 1),
              flags: ["\\Seen", "$Work"],
              internalDate: "2025-03-04T05:06:07Z",
            },
            { source: message("small", 2_000, 2) },
            {
              source: message("nine", 9_000_000, 3),
              flags: ["\\Flagged"],
              internalDate: "2024-01-02T03:04:05Z",
            },
            { source: message("no-id", 6_000_000, 4, false) },
          ],
        },
      ],
    });
    const source = await read(pair.source, account, "source");

    const run = await runPlain(account, ["--addheader"]);
    expect(run.code, run.lines.join("\n")).toBe(0);
    expect(statistics(run).messagesTransferred).toBe(4);
    const destination = await read(pair.destination, account, "destination");
    const noId = message("no-id", 6_000_000, 4, false);
    const added = sha256(Buffer.concat([Buffer.from("Message-Id: <4@imapsync>\r\n"), noId]));
    expect(destination.folders[0]?.messages.map((m) => m.sha256)).toContain(added);
    expect(withoutMessages(destination, new Set([added]))).toEqual(
      withoutMessages(source, new Set([sha256(noId)])),
    );

    const rerun = await runPlain(account, ["--addheader"]);
    expect(rerun.code, rerun.lines.join("\n")).toBe(0);
    expect(statistics(rerun).messagesTransferred).toBe(0);
    expect(await read(pair.destination, account, "destination")).toEqual(destination);
  });

  it("a rerun brings flags changed on the source since the last run to the destination", async () => {
    const account = await newSeededAccount();
    const first = await runPlain(account);
    expect(first.code, first.lines.join("\n")).toBe(0);

    // The user keeps working on the source: reads one message, flags another, unreads a third.
    const client = new ImapFlow(
      pair.source.imapflowOptions({ user: account.user, password: account.sourcePassword }),
    );
    client.on("error", () => {});
    await client.connect();
    try {
      await client.mailboxOpen("INBOX");
      await client.messageFlagsAdd("3", ["\\Seen"]);
      await client.messageFlagsAdd("1", ["\\Flagged", "$Later"]);
      await client.messageFlagsRemove("2", ["\\Seen"]);
    } finally {
      await client.logout();
    }
    const source = await read(pair.source, account, "source");

    const rerun = await runPlain(account);
    expect(rerun.code, rerun.lines.join("\n")).toBe(0);
    expect(statistics(rerun).messagesTransferred).toBe(0);
    expect(rerun.lines.filter((line) => line.includes(" flags on host2 ")).length).toBe(3);
    expect(await read(pair.destination, account, "destination")).toEqual(source);
  });

  it("--dry copies nothing and creates no folder", async () => {
    const account = await newSeededAccount();
    const destinationBefore = await read(pair.destination, account, "destination");

    const run = await runPlain(account, ["--dry"]);

    expect(run.code, run.lines.join("\n")).toBe(0);
    expect(await read(pair.destination, account, "destination")).toEqual(destinationBefore);
    const stats = statistics(run);
    expect(stats.messagesTransferred).toBe(0);
    expect(stats.messagesWouldTransfer).toBe(messageCount(await read(pair.source, account, "source")));
    expect(run.lines.some((line) => line.includes(" copied to "))).toBe(false);
  });

  it("--dry on an empty destination names, line by line and in its statistics, exactly the messages the real run then copies", async () => {
    const account = await newSeededAccount();

    const { dry, real, after } = await dryRealDry(account);

    expect(dry.wouldCopy.length).toBeGreaterThan(0);
    expect(dry.wouldCopy).toEqual(real.copied);
    expect(dry.statistic).toBe(real.copied.length);
    expect(real.statistic).toBe(real.copied.length);
    expect(after).toEqual({ wouldCopy: [], statistic: 0 });
  });

  it("--dry counts what the real run copies when the destination already holds part of the mailbox, and source duplicates and header-less messages as often as the source holds them", async () => {
    const account = await newAccount();
    const spec = standardMailboxSpec();
    const twice = corpusMessage("plain-ascii.eml");
    spec.folders.push({
      path: "Projekte/Neu",
      messages: [
        { source: twice, flags: [], internalDate: "2023-05-01T10:00:00Z" },
        { source: twice, flags: ["\\Seen"], internalDate: "2023-05-02T10:00:00Z" },
        { source: corpusMessage("no-message-id-1.eml"), flags: [], internalDate: "2023-05-03T10:00:00Z" },
      ],
    });
    await seedMailbox(pair.source, account.user, account.sourcePassword, spec);
    // INBOX and Sent are already migrated; the other folders do not exist on the destination yet.
    const first = await runPlain(account, ["--folder", "INBOX", "--folder", "Sent"]);
    expect(first.code, first.lines.join("\n")).toBe(0);
    expect(statistics(first).messagesTransferred).toBeGreaterThan(0);

    const { dry, real, after } = await dryRealDry(account);

    expect(dry.wouldCopy.length).toBeGreaterThan(0);
    expect(dry.wouldCopy).toEqual(real.copied);
    expect(dry.statistic).toBe(real.copied.length);
    expect(after).toEqual({ wouldCopy: [], statistic: 0 });
  });

  it("--dry with --addheader counts the header-less messages the real run copies", async () => {
    const account = await newSeededAccount();
    const source = await read(pair.source, account, "source");

    const { dry, real, after } = await dryRealDry(account, ["--addheader"]);

    expect(dry.statistic).toBe(messageCount(source));
    expect(dry.wouldCopy).toEqual(real.copied);
    expect(after).toEqual({ wouldCopy: [], statistic: 0 });
  });

  it("--dry with two source folders merged into one by --f1f2 counts a message both hold once, as the real run copies it", async () => {
    const account = await newAccount();
    const shared = corpusMessage("plain-ascii.eml");
    await seedMailbox(pair.source, account.user, account.sourcePassword, {
      folders: [
        {
          path: "Sent",
          messages: [
            { source: shared, flags: ["\\Seen"], internalDate: "2023-05-01T10:00:00Z" },
            { source: corpusMessage("tiny.eml"), flags: [], internalDate: "2023-05-02T10:00:00Z" },
          ],
        },
        {
          path: "Sent Items",
          messages: [
            { source: shared, flags: ["\\Seen"], internalDate: "2023-05-01T10:00:00Z" },
            { source: corpusMessage("rfc2047-headers.eml"), flags: [], internalDate: "2023-05-03T10:00:00Z" },
          ],
        },
      ],
    });

    const { dry, real, after } = await dryRealDry(account, ["--f1f2", "Sent Items=Sent"]);

    expect(real.copied).toEqual(["Sent Items/2", "Sent/1", "Sent/2"]);
    expect(dry.wouldCopy).toEqual(real.copied);
    expect(dry.statistic).toBe(3);
    expect(after).toEqual({ wouldCopy: [], statistic: 0 });
  });

  it("--dry on a generated mailbox of 240 messages in 6 folders says 240, and the real run copies 240", async () => {
    const account = await newAccount();
    await pair.source.seedMaildir(
      account.user,
      generateLargeMailbox({ messages: 240, folders: 6, seed: 5, averageSize: 3000 }),
    );

    const { dry, real, after } = await dryRealDry(account);

    expect(dry.statistic).toBe(240);
    expect(dry.wouldCopy).toEqual(real.copied);
    expect(real.copied).toHaveLength(240);
    expect(after).toEqual({ wouldCopy: [], statistic: 0 });
  });

  it("--exitwhenover holds with folders copied in parallel: no run transfers past it, and runs one after another complete the mailbox exactly", async () => {
    const account = await newAccount();
    await pair.source.seedMaildir(
      account.user,
      generateLargeMailbox({ messages: 240, folders: 6, seed: 9, averageSize: 3000, maxSize: 20_000 }),
    );
    const limit = 120_000;
    let runs = 0;
    for (;;) {
      const run = await runPlain(account, ["--exitwhenover", String(limit)]);
      runs += 1;
      const stats = statistics(run);
      expect(stats.bytesTransferred ?? 0, run.lines.slice(-30).join("\n")).toBeLessThanOrEqual(limit);
      if (exitLine(run).code === 0) break;
      expect(exitLine(run).name).toBe("EXIT_TRANSFER_EXCEEDED");
      expect(runs).toBeLessThan(20);
    }
    expect(runs).toBeGreaterThan(3);
    const [source, destination] = await Promise.all([
      read(pair.source, account, "source"),
      read(pair.destination, account, "destination"),
    ]);
    expect(destination).toEqual(source);
  });

  it("--folder, --exclude and --f1f2 take imapsync's wire names: only the chosen folders move, one renamed", async () => {
    const account = await newSeededAccount();
    const source = await read(pair.source, account, "source");

    const run = await runPlain(account, [
      ...["--folder", "INBOX", "--folder", "Entw&APw-rfe", "--folder", "Sent"],
      ...["--exclude", "^Sent$", "--f1f2", "Entw&APw-rfe=Brouillons &AOk-t&AOk-"],
    ]);

    expect(run.code, run.lines.join("\n")).toBe(0);
    const destination = await read(pair.destination, account, "destination");
    const sourceFolder = (path: string) => source.folders.find((folder) => folder.path === path)?.messages;
    expect(destination.folders).toEqual([
      { path: "Brouillons été", messages: sourceFolder("Entwürfe") },
      { path: "INBOX", messages: sourceFolder("INBOX") },
    ]);
  });

  it("--maxmessagespersecond holds the copy rate down", async () => {
    const account = await newAccount();
    await pair.source.seedMaildir(
      account.user,
      generateLargeMailbox({ messages: 30, folders: 1, seed: 3, averageSize: 4000 }),
    );

    const run = await runPlain(account, ["--maxmessagespersecond", "15"]);

    expect(run.code, run.lines.join("\n")).toBe(0);
    const stats = statistics(run);
    expect(stats.messagesTransferred).toBe(30);
    // 30 messages at 15/s cannot take less than ~2 s (the first goes out at once).
    expect(stats.transferTimeSeconds ?? 0).toBeGreaterThanOrEqual(1.9);
    expect(stats.messagesPerSecond ?? 0).toBeLessThanOrEqual(16);
  });

  it("--justfolders creates the folder tree, non-ASCII names included, and copies no message", async () => {
    const account = await newSeededAccount();
    const source = await read(pair.source, account, "source");

    const run = await runPlain(account, ["--justfolders"]);

    expect(run.code, run.lines.join("\n")).toBe(0);
    const destination = await read(pair.destination, account, "destination");
    expect(destination.folders.map((folder) => folder.path)).toEqual(
      source.folders.map((folder) => folder.path),
    );
    expect(messageCount(destination)).toBe(0);
    // Subscriptions follow the source's, as imapsync's default --subscribe does.
    const sourceSubscribed = await subscribedFolders(pair.source, account.user, account.sourcePassword);
    expect(sourceSubscribed.length).toBeGreaterThan(3);
    expect(await subscribedFolders(pair.destination, account.user, account.destinationPassword)).toEqual(
      sourceSubscribed,
    );
  });

  it("--justlogin logs in on both sides and does nothing else", async () => {
    const account = await newSeededAccount();

    const run = await runPlain(account, ["--justlogin"]);

    expect(run.code, run.lines.join("\n")).toBe(0);
    const logins = run.events.filter((e) => e.type === "login");
    expect(logins).toEqual([
      expect.objectContaining({ side: "source", ok: true, user: account.user }),
      expect.objectContaining({ side: "destination", ok: true, user: account.user }),
    ]);
    expect(run.events.some((e) => e.type === "folder")).toBe(false);
    expect((await read(pair.destination, account, "destination")).folders.map((f) => f.path)).toEqual([
      "INBOX",
    ]);
  });

  it("exits 161 for a wrong source password and 162 for a wrong destination password, naming neither password", async () => {
    const account = await newAccount();
    const wrongSource = await runEngine(plainArgs(account), "Wrong-Password-1", account.destinationPassword);
    expect(wrongSource.code, wrongSource.lines.join("\n")).toBe(161);
    expect(exitLine(wrongSource).name).toBe("EXIT_AUTHENTICATION_FAILURE_USER1");
    expect(wrongSource.events).toContainEqual(
      expect.objectContaining({ type: "login", side: "source", ok: false }),
    );
    expect(wrongSource.lines.join("\n")).not.toContain("Wrong-Password-1");
    expectNoPassword(wrongSource, account);

    const wrongDestination = await runEngine(plainArgs(account), account.sourcePassword, "Wrong-Password-2");
    expect(wrongDestination.code, wrongDestination.lines.join("\n")).toBe(162);
    expect(exitLine(wrongDestination).name).toBe("EXIT_AUTHENTICATION_FAILURE_USER2");
    expect(wrongDestination.lines.join("\n")).not.toContain("Wrong-Password-2");
  });

  it("exits 101 when the source port is closed and 102 when the destination port is closed", async () => {
    const account = await newAccount();
    const closed = await freeClosedPort();
    const sourceClosed = plainArgs(account);
    sourceClosed[sourceClosed.indexOf("--port1") + 1] = String(closed);
    const run1 = await runEngine(sourceClosed, account.sourcePassword, account.destinationPassword);
    expect(run1.code, run1.lines.join("\n")).toBe(101);
    expect(run1.events).toContainEqual(expect.objectContaining({ type: "connect-failed", side: "source" }));

    const destinationClosed = plainArgs(account);
    destinationClosed[destinationClosed.indexOf("--port2") + 1] = String(closed);
    const run2 = await runEngine(destinationClosed, account.sourcePassword, account.destinationPassword);
    expect(run2.code, run2.lines.join("\n")).toBe(102);
    expect(exitLine(run2).name).toBe("EXIT_CONNECTION_FAILURE_HOST2");
  });

  it("verifies certificates by default: a self-signed source certificate exits 12", async () => {
    const account = await newAccount();
    const run = await runEngine(
      [...sourceArgs(account, pair.source.tlsPort), "--ssl1", ...destinationArgs(account), "--notls2"],
      account.sourcePassword,
      account.destinationPassword,
    );
    expect(run.code, run.lines.join("\n")).toBe(12);
    expect(exitLine(run).name).toBe("EXIT_TLS_FAILURE");
  });

  it("refuses unknown options and passwords on the command line with exit 64", async () => {
    const account = await newAccount();
    const unknown = await runEngine(plainArgs(account, ["--frobnicate"]), "a", "b");
    expect(unknown.code).toBe(64);
    expect(unknown.lines.join("\n")).toContain("--frobnicate");

    const password = await runEngine(plainArgs(account, ["--password1", "Secret-On-Argv"]), "a", "b");
    expect(password.code).toBe(64);
    expect(password.lines.join("\n")).not.toContain("Secret-On-Argv");
  });

  it("with --delete2 removes destination messages the source does not have, and only those", async () => {
    const account = await newSeededAccount();
    const stray =
      "From: x@example.org\r\nSubject: only on the destination\r\nMessage-ID: <stray-1@example.org>\r\n\r\nbye\r\n";
    await seedMailbox(pair.destination, account.user, account.destinationPassword, {
      folders: [{ path: "INBOX", messages: [{ source: stray, internalDate: "2024-01-01T00:00:00Z" }] }],
    });
    const source = await read(pair.source, account, "source");

    const run = await runPlain(account, ["--delete2"]);

    expect(run.code, run.lines.join("\n")).toBe(0);
    expect(statistics(run).deletedOnDestination).toBe(1);
    expect(await read(pair.destination, account, "destination")).toEqual(source);
    expect(await read(pair.source, account, "source")).toEqual(source);
  });

  it("stops with exit 113 when the destination is over quota, naming the message that did not fit", async () => {
    const account = await newAccount();
    await pair.destination.addUser(account.user, account.destinationPassword, { quotaBytes: 600_000 });
    await seedMailbox(pair.source, account.user, account.sourcePassword, standardMailboxSpec());

    const run = await runPlain(account);

    expect(run.code, run.lines.join("\n")).toBe(113);
    expect(exitLine(run).name).toBe("EXIT_OVERQUOTA");
    const errors = run.events.filter((e) => e.type === "error");
    expect(errors.length).toBeGreaterThan(0);
    expect(
      run.lines.some((line) =>
        /^Err 1\/\d+: - msg Archive\/2024\/1 \{\d+\} could not append .*quota/i.test(line),
      ),
    ).toBe(true);
  });

  it.each(["source", "destination"] as const)(
    "reconnects when the %s connection drops mid-run and still completes the mailbox",
    async (side) => {
      const account = await newAccount();
      await pair.source.seedMaildir(
        account.user,
        generateLargeMailbox({ messages: 600, folders: 4, seed: 11 }),
      );
      const source = await read(pair.source, account, "source");

      const engine = startEngine(plainArgs(account), account.sourcePassword, account.destinationPassword);
      await engine.waitForLines((lines) => lines.filter((line) => line.startsWith("msg ")).length >= 30);
      await pair[side].kick(account.user);
      const run = await engine.done;

      expect(run.code, run.lines.filter((line) => !line.startsWith("msg ")).join("\n")).toBe(0);
      expect(run.lines.some((line) => line.startsWith("Connection lost while syncing folder"))).toBe(true);
      // The kick cuts every connection of the account: each set copying a folder then reconnects.
      const sets = Number(/^Copying up to (\d+) folders at once/m.exec(run.lines.join("\n"))?.[1] ?? 1);
      const reconnections =
        side === "source"
          ? statistics(run).reconnectionsToSource
          : statistics(run).reconnectionsToDestination;
      expect(reconnections).toBeGreaterThanOrEqual(1);
      expect(reconnections).toBeLessThanOrEqual(sets);
      expect(statistics(run).messagesTransferred).toBe(messageCount(source));
      expect(statistics(run).messagesSkipped).toBe(0);
      expect(statistics(run).errors).toBe(0);
      expect(await read(pair.destination, account, "destination")).toEqual(source);
    },
  );

  it("spends its --retries on reconnections, one per blip however many folders it copies at once, and with none left stops instead of reconnecting; a rerun completes without duplicates", async () => {
    const account = await newAccount();
    await pair.source.seedMaildir(
      account.user,
      generateLargeMailbox({ messages: 600, folders: 4, seed: 12 }),
    );
    const source = await read(pair.source, account, "source");

    const firstCut = startEngine(
      [...plainArgs(account), "--retries", "1"],
      account.sourcePassword,
      account.destinationPassword,
    );
    const copied = (lines: string[]) => lines.filter((line) => line.startsWith("msg ")).length;
    await firstCut.waitForLines((lines) => copied(lines) >= 30);
    await pair.source.kick(account.user);
    await firstCut.waitForLines((lines) =>
      lines.some((line) => line.includes("automatic retry 1 of this run")),
    );
    await firstCut.waitForLines((lines) => copied(lines) >= 60);
    await pair.source.kick(account.user);
    const run = await firstCut.done;

    const text = run.lines.filter((line) => !line.startsWith("msg ")).join("\n");
    expect(run.code, text).not.toBe(0);
    expect(text).toMatch(/^Host1: automatic retry 1 of this run \(reconnected\); 0 left$/m);
    expect(text).toMatch(
      /^Host1: reconnecting would need an automatic retry, but the job's automatic retries are used up: stopping the run$/m,
    );
    // The kick dropped both folder lanes' source connections: each reconnected, for one retry.
    expect(text).toMatch(/^Copying up to 2 folders at once/m);
    expect(text.match(/automatic retry \d+ of this run/g)).toHaveLength(1);
    expect(statistics(run).reconnectionsToSource).toBeGreaterThanOrEqual(1);

    const rerun = await runPlain(account);
    expect(rerun.code, rerun.lines.join("\n")).toBe(0);
    expect(await read(pair.destination, account, "destination")).toEqual(source);
  });

  it("stops at once on SIGTERM while a silent server keeps the login waiting", async () => {
    const account = await newAccount();
    const sockets = new Set<Socket>();
    // Accepts connections and never greets: the engine would wait for its 120 s greeting timeout.
    const silent = createServer(function holdSocket(socket) {
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const address = silent.address();
      const port = typeof address === "object" && address ? address.port : 0;
      const args = plainArgs(account);
      args[args.indexOf("--port1") + 1] = String(port);
      const engine = startEngine(args, account.sourcePassword, account.destinationPassword);
      await engine.waitForLines((lines) =>
        lines.some((line) => line.startsWith("Host1: connecting and login")),
      );
      const killedAt = performance.now();
      engine.child.kill("SIGTERM");
      const run = await engine.done;
      expect(run.code, run.lines.join("\n")).toBe(6);
      expect((performance.now() - killedAt) / 1000).toBeLessThan(5);
      expect(run.lines).toContain("++++ Statistics");
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("stops by itself when the process that started it is killed with -9 (no parent-death signal needed)", async () => {
    const account = await newAccount();
    await pair.source.seedMaildir(account.user, generateLargeMailbox({ messages: 300, folders: 2, seed: 9 }));
    // A stand-in worker: a shell that starts the engine without setpriv, says its pid, and is then killed.
    const argv = [
      process.execPath,
      "--import",
      TSX,
      CLI,
      ...plainArgs(account, ["--maxmessagespersecond", "20"]),
    ];
    const quoted = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
    const worker = spawn("sh", ["-c", `${quoted} > /dev/null & echo $!; wait`], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        IMAPSYNC_PASSWORD1: account.sourcePassword,
        IMAPSYNC_PASSWORD2: account.destinationPassword,
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const enginePid = await new Promise<number>((resolve) =>
      worker.stdout?.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))),
    );
    const destinationCount = async () => messageCount(await read(pair.destination, account, "destination"));
    for (let copied = 0; copied < 10; copied = await destinationCount()) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    worker.kill("SIGKILL");
    const alive = () => {
      try {
        process.kill(enginePid, 0);
        return true;
      } catch {
        return false;
      }
    };
    while (alive()) await new Promise((resolve) => setTimeout(resolve, 100));
    const atExit = await destinationCount();
    expect(atExit).toBeLessThan(300);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await destinationCount()).toBe(atExit);
  });

  it("stops within seconds on SIGTERM with statistics and exit 6, and the rerun completes the mailbox without duplicates", async () => {
    const account = await newAccount();
    const generated = generateLargeMailbox({ messages: 800, folders: 6, seed: 7 });
    await pair.source.seedMaildir(account.user, generated);
    const source = await read(pair.source, account, "source");

    const engine = startEngine(plainArgs(account), account.sourcePassword, account.destinationPassword);
    await engine.waitForLines((lines) => lines.filter((line) => line.startsWith("msg ")).length >= 40);
    const killedAt = performance.now();
    engine.child.kill("SIGTERM");
    const stopped = await engine.done;
    const stopSeconds = (performance.now() - killedAt) / 1000;

    expect(stopped.code, stopped.lines.slice(-40).join("\n")).toBe(6);
    expect(stopSeconds).toBeLessThan(5);
    expect(stopped.events).toContainEqual({ type: "signal", signal: "TERM" });
    expect(exitLine(stopped).name).toBe("EXIT_BY_SIGNAL");
    const partial = statistics(stopped).messagesTransferred ?? 0;
    expect(partial).toBeGreaterThanOrEqual(40);
    expect(partial).toBeLessThan(messageCount(source));
    expect(messageCount(await read(pair.destination, account, "destination"))).toBe(partial);

    const rerun = await runPlain(account);
    expect(rerun.code, rerun.lines.slice(-40).join("\n")).toBe(0);
    expect(statistics(rerun).messagesTransferred).toBe(messageCount(source) - partial);
    expect(await read(pair.destination, account, "destination")).toEqual(source);
  });
});
