import type {
  ImapCredentials,
  ImapFaultProxy,
  ImapPair,
  MailboxSnapshot,
  SeedMessage,
} from "@imapferry/testkit";
import { readMailbox, seedMailbox, startImapFaultProxy, startImapPair } from "@imapferry/testkit";
import { ImapFlow } from "imapflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FolderStates } from "../src/engines/builtin/sync-state.ts";
import type { ParsedEvent } from "../src/engines/imapsync/parser.ts";
import type { EngineStateChannel } from "../src/engines/run-engine.ts";
import { runMigrationEngine } from "../src/engines/run-engine.ts";
import type { ResolvedEngine } from "../src/engines/select-engine.ts";
import { resolveEngine } from "../src/engines/select-engine.ts";
import type { MigrationSpec } from "../src/engines/types.ts";
import type { FolderProof, FolderProofs } from "../src/engines/verification/folder-proof.ts";
import { openCheckSession, verifyMigration } from "../src/engines/verification/verify-migration.ts";
import { startFolderPrechecks } from "../src/queue/folder-prechecks.ts";

/*
 * The built-in engine's incremental sync state, end to end against two real Dovecots: the engine is
 * spawned as the worker spawns it (state channel on descriptor 3), and the state it reports is kept
 * here between runs, as the worker keeps it in the database. Both servers sit behind a proxy that
 * records which commands the engine sent.
 */

let pair: ImapPair;
let engine: ResolvedEngine;
let sourceProxy: ImapFaultProxy;
let destinationProxy: ImapFaultProxy;

beforeAll(async () => {
  pair = await startImapPair();
  engine = await resolveEngine({ engine: "builtin" });
  sourceProxy = await startImapFaultProxy({ host: pair.source.host, port: pair.source.port });
  destinationProxy = await startImapFaultProxy({ host: pair.destination.host, port: pair.destination.port });
});

afterAll(async () => {
  await sourceProxy?.close();
  await destinationProxy?.close();
  await pair?.stop();
});

/** What the worker keeps in sync_folder_states, kept in memory. */
class StateStore extends FolderStates {
  channel(): EngineStateChannel {
    return { initial: JSON.stringify(this.all()), onUpdate: (update) => this.apply(update) };
  }
}

function message(tag: string, n: number, flags: string[] = []): SeedMessage {
  return {
    source: [
      `From: Sender ${n} <sender${n}@example.org>`,
      "To: owner@example.com",
      `Subject: ${tag} ${n}`,
      `Message-ID: <${tag}-${n}@example.org>`,
      "Date: Mon, 02 Nov 2026 10:00:00 +0000",
      "",
      `Body of ${tag} ${n}.`,
      "",
    ].join("\r\n"),
    internalDate: "2026-11-02T10:00:00Z",
    flags,
  };
}

/** A message with neither Message-ID nor Received: matched by content. */
function headerless(n: number): SeedMessage {
  return {
    source: [`From: scanner@example.org`, `Subject: Scan ${n}`, "", `Scan ${n}`, ""].join("\r\n"),
    internalDate: "2026-11-03T10:00:00Z",
  };
}

interface Mailboxes {
  source: ImapCredentials;
  destination: ImapCredentials;
  state: StateStore;
}

async function mailboxes(name: string): Promise<Mailboxes> {
  const source = await pair.source.addUser(`${name}@old.example`, `src-${name}-pw`);
  const destination = await pair.destination.addUser(`${name}@new.example`, `dst-${name}-pw`);
  await seedMailbox(pair.source, source.user, source.password, {
    folders: [
      {
        path: "INBOX",
        messages: [
          ...Array.from({ length: 20 }, (_, i) => message(name, i, i % 3 === 0 ? ["\\Seen"] : [])),
          headerless(1),
        ],
      },
      {
        path: "Archive",
        messages: Array.from({ length: 10 }, (_, i) => message(`${name}-archive`, i, ["\\Seen"])),
      },
      { path: "Sent", messages: Array.from({ length: 5 }, (_, i) => message(`${name}-sent`, i, ["\\Seen"])) },
    ],
  });
  return { source, destination, state: new StateStore() };
}

interface Pass {
  code: number | null;
  lines: string[];
  sourceCommands: string[];
  destinationCommands: string[];
}

function specOf(m: Mailboxes, options: Record<string, unknown> = {}): MigrationSpec {
  const side = (port: number, credentials: ImapCredentials) => ({
    host: "127.0.0.1",
    port,
    security: "none" as const,
    acceptSelfSigned: false,
    user: credentials.user,
    password: credentials.password,
  });
  return {
    source: side(sourceProxy.port, m.source),
    destination: side(destinationProxy.port, m.destination),
    dryRun: false,
    options,
  };
}

async function pass(m: Mailboxes, options: Record<string, unknown> = {}): Promise<Pass> {
  const lines: string[] = [];
  const sourceMark = sourceProxy.commands.length;
  const destinationMark = destinationProxy.commands.length;
  const result = await runMigrationEngine({
    engine,
    spec: specOf(m, options),
    onLine: (line) => lines.push(line),
    stateChannel: m.state.channel(),
  });
  return {
    code: result.exitCode,
    lines,
    sourceCommands: sourceProxy.commands.slice(sourceMark),
    destinationCommands: destinationProxy.commands.slice(destinationMark),
  };
}

async function withSource<T>(m: Mailboxes, work: (client: ImapFlow) => Promise<T>): Promise<T> {
  return withClient(pair.source.imapflowOptions(m.source), work);
}

async function withDestination<T>(m: Mailboxes, work: (client: ImapFlow) => Promise<T>): Promise<T> {
  return withClient(pair.destination.imapflowOptions(m.destination), work);
}

async function withClient<T>(
  options: ConstructorParameters<typeof ImapFlow>[0],
  work: (client: ImapFlow) => Promise<T>,
): Promise<T> {
  const client = new ImapFlow(options);
  client.on("error", () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

async function snapshots(m: Mailboxes): Promise<{ source: MailboxSnapshot; destination: MailboxSnapshot }> {
  const [source, destination] = await Promise.all([
    readMailbox(pair.source, m.source.user, m.source.password),
    readMailbox(pair.destination, m.destination.user, m.destination.password),
  ]);
  return { source, destination };
}

/** The destination holds exactly what the source holds: every message once, with its flags and date. */
async function expectExact(m: Mailboxes): Promise<void> {
  const { source, destination } = await snapshots(m);
  expect(destination).toEqual(source);
}

/** Commands that read or write messages, as opposed to STATUS, LIST and the session's own. */
const MESSAGE_COMMANDS = new Set([
  "SELECT",
  "EXAMINE",
  "FETCH",
  "UID FETCH",
  "SEARCH",
  "UID SEARCH",
  "STORE",
  "UID STORE",
  "APPEND",
  "EXPUNGE",
  "UID EXPUNGE",
]);

function messageCommands(commands: string[]): string[] {
  return commands.filter((command) => MESSAGE_COMMANDS.has(command));
}

describe("incremental sync state (built-in engine)", () => {
  it("a rerun of a fully copied mailbox asks each side for one STATUS per folder and nothing else", async () => {
    const m = await mailboxes("unchanged");
    const headerReads = sourceProxy.headerReads;
    const first = await pass(m);
    expect(first.code).toBe(0);
    // Into empty folders every message is copied: none is identified, so no header is read for it.
    expect(sourceProxy.headerReads - headerReads).toBe(0);
    expect(m.state.all()).toHaveLength(3);
    await expectExact(m);

    const second = await pass(m);

    expect(second.code).toBe(0);
    expect(messageCommands(second.sourceCommands)).toEqual([]);
    expect(messageCommands(second.destinationCommands)).toEqual([]);
    expect(second.sourceCommands.filter((c) => c === "STATUS")).toHaveLength(3);
    expect(second.destinationCommands.filter((c) => c === "STATUS")).toHaveLength(3);
    expect(second.lines.filter((line) => line.includes("unchanged since the last pass"))).toHaveLength(6);
    expect(second.lines.join("\n")).toMatch(/Messages transferred\s*:\s*0\b/);
    await expectExact(m);
  });

  it("mail added and flags changed on the source between runs arrive, and nothing is duplicated", async () => {
    const m = await mailboxes("changes");
    await pass(m);
    await withSource(m, async (client) => {
      await client.append("INBOX", message("changes-new", 1).source, ["\\Flagged"]);
      await client.append("INBOX", message("changes-new", 2).source, []);
      await client.append("Archive", headerless(2).source, ["\\Seen"]);
      await client.mailboxOpen("INBOX");
      await client.messageFlagsAdd("1:3", ["\\Flagged", "$Important"], { uid: true });
      await client.messageFlagsRemove("1", ["\\Seen"], { uid: true });
    });

    const second = await pass(m);

    expect(second.code).toBe(0);
    const text = second.lines.join("\n");
    expect(text).toContain("since the last pass: 2 new, 0 gone, 3 to check for flag changes");
    expect(text).not.toContain("compared in full");
    expect(text).toMatch(/Messages transferred\s*:\s*3\b/);
    await expectExact(m);

    // What the delta pass stored is right: the next pass finds nothing to do.
    const third = await pass(m);
    expect(messageCommands(third.sourceCommands)).toEqual([]);
    expect(messageCommands(third.destinationCommands)).toEqual([]);
    await expectExact(m);
  });

  it("a source folder recreated with a new UIDVALIDITY is compared in full and ends exact", async () => {
    const m = await mailboxes("recreated");
    await pass(m);
    await withSource(m, async (client) => {
      await client.mailboxDelete("Sent");
      await client.mailboxCreate("Sent");
      // The same five messages again (as a restore would put them back) and one new one.
      const date = new Date("2026-11-02T10:00:00Z");
      for (let i = 0; i < 5; i++)
        await client.append("Sent", message("recreated-sent", i).source, ["\\Seen"], date);
      await client.append("Sent", message("recreated-sent-new", 1).source, [], date);
    });

    const second = await pass(m);

    expect(second.code).toBe(0);
    const text = second.lines.join("\n");
    expect(text).toContain("compared in full: the source folder's UIDVALIDITY changed");
    expect(text).toMatch(/Messages transferred\s*:\s*1\b/);
    await expectExact(m);
    const third = await pass(m);
    expect(messageCommands(third.sourceCommands)).toEqual([]);
  });

  it("a copy deleted on the destination behind the engine's back is copied again", async () => {
    const m = await mailboxes("behind-back");
    await pass(m);
    await withDestination(m, async (client) => {
      await client.mailboxOpen("INBOX");
      await client.messageDelete("5,7", { uid: true });
    });

    const second = await pass(m);

    expect(second.code).toBe(0);
    const text = second.lines.join("\n");
    expect(text).toContain("0 new, 2 copies gone");
    expect(text).toMatch(/Messages transferred\s*:\s*2\b/);
    await expectExact(m);
  });

  it("a message expunged on the source stays on the destination unless deleteOnDestination is set", async () => {
    const m = await mailboxes("expunged");
    await pass(m);
    await withSource(m, async (client) => {
      await client.mailboxOpen("Archive");
      await client.messageDelete("2", { uid: true });
    });

    const kept = await pass(m);
    expect(kept.code).toBe(0);
    expect(kept.lines.join("\n")).toContain("0 new, 1 gone");
    let { source, destination } = await snapshots(m);
    const archive = (snapshot: MailboxSnapshot) =>
      snapshot.folders.find((f) => f.path === "Archive")?.messages ?? [];
    expect(archive(source)).toHaveLength(9);
    expect(archive(destination)).toHaveLength(10);

    const deleting = await pass(m, { deleteOnDestination: true });
    expect(deleting.code).toBe(0);
    expect(deleting.lines.join("\n")).toMatch(/Messages deleted on host2\s*:\s*1\b/);
    ({ source, destination } = await snapshots(m));
    expect(destination).toEqual(source);

    const after = await pass(m, { deleteOnDestination: true });
    expect(messageCommands(after.sourceCommands)).toEqual([]);
    expect(messageCommands(after.destinationCommands)).toEqual([]);
  });

  it("a source message expunged with deleteOnDestination set is removed from the destination in the same pass", async () => {
    const m = await mailboxes("expunged-delete");
    await pass(m, { deleteOnDestination: true });
    await withSource(m, async (client) => {
      await client.mailboxOpen("INBOX");
      await client.messageDelete("3:4", { uid: true });
      await client.append("INBOX", message("expunged-delete-new", 1).source, []);
    });

    const second = await pass(m, { deleteOnDestination: true });

    expect(second.code).toBe(0);
    const text = second.lines.join("\n");
    expect(text).toContain("1 new, 2 gone");
    expect(text).toMatch(/Messages deleted on host2\s*:\s*2\b/);
    await expectExact(m);
  });

  it("the check after a run reads again only the folders that changed since it found them complete", async () => {
    const m = await mailboxes("check-proofs");
    await pass(m);
    const stored = new Map<string, FolderProof>();
    const proofs: FolderProofs = {
      lookup: (source, destination) => stored.get(`${source}→${destination}`),
      record: (proof) => stored.set(`${proof.result.folder}→${proof.result.destinationFolder}`, proof),
    };
    const check = () => verifyMigration({ spec: specOf(m), engine: "builtin", proofs });

    const first = await check();
    expect(first).toMatchObject({ sourceMessages: 36, destMessages: 36, missing: 0, unchangedFolders: 0 });
    expect(stored.size).toBe(3);

    const sourceMark = sourceProxy.commands.length;
    const second = await check();
    expect(second).toMatchObject({ sourceMessages: 36, destMessages: 36, missing: 0, unchangedFolders: 3 });
    expect(messageCommands(sourceProxy.commands.slice(sourceMark))).toEqual([]);

    // A copy removed behind everyone's back: that folder is read again, and the check says so.
    await withDestination(m, async (client) => {
      await client.mailboxOpen("INBOX");
      await client.messageDelete("4", { uid: true });
    });
    const third = await check();
    expect(third).toMatchObject({ sourceMessages: 36, destMessages: 35, missing: 1, unchangedFolders: 2 });
  });

  it("folders checked while the engine ran spare the check after it their reads, unless they changed since", async () => {
    const m = await mailboxes("prechecks");
    await pass(m);
    const spec = specOf(m);
    const logins = (commands: readonly string[]) =>
      commands.filter((command) => command === "LOGIN" || command === "AUTHENTICATE").length;
    const loginsBefore = logins(sourceProxy.commands);
    const prechecks = startFolderPrechecks({
      runner: {
        openCheck: (checked, options) => openCheckSession({ spec: checked, engine: "builtin", ...options }),
      },
      spec,
      signal: new AbortController().signal,
      ready: Promise.resolve(),
    });
    // The folder lines an engine prints as it goes: each start hands over the folder before it.
    const folderStart = (index: number, name: string): ParsedEvent => ({
      type: "folder",
      index,
      count: 3,
      source: name,
      sourceDisplay: name,
      destination: name,
      destinationDisplay: name,
    });
    prechecks.onEvent(folderStart(1, "INBOX"));
    prechecks.onEvent(folderStart(2, "Archive"));
    // Sent's start hands Archive over after the check of INBOX began: a second check, on the same session.
    await new Promise((resolve) => setTimeout(resolve, 500));
    prechecks.onEvent(folderStart(3, "Sent"));
    const early = await prechecks.finish();
    // The last folder started is left to the check after the run; the others were read on one
    // session, whichever way they were handed over.
    expect(early.checked).toBe(2);
    expect(logins(sourceProxy.commands) - loginsBefore).toBe(1);
    expect(early.proofs.map((proof) => proof.result.folder).sort()).toEqual(["Archive", "INBOX"]);
    const earlyProofs: FolderProofs = {
      lookup: (source, destination) =>
        early.proofs.find((p) => p.result.folder === source && p.result.destinationFolder === destination),
      record: () => {},
    };

    const after = await verifyMigration({ spec, engine: "builtin", proofs: earlyProofs });
    expect(after).toMatchObject({ sourceMessages: 36, destMessages: 36, missing: 0, unchangedFolders: 2 });

    // A copy in a folder checked early goes missing before the check after the run: that folder is read
    // again, and the check says what is missing.
    await withDestination(m, async (client) => {
      await client.mailboxOpen("Archive");
      await client.messageDelete("3", { uid: true });
    });
    const changed = await verifyMigration({ spec, engine: "builtin", proofs: earlyProofs });
    expect(changed).toMatchObject({ sourceMessages: 36, destMessages: 35, missing: 1, unchangedFolders: 1 });
  });

  it("the check after a run proves folders from the UIDs the destination gave the copies, reading no message, and still finds what went missing", async () => {
    const m = await mailboxes("check-ledger");
    await pass(m);
    const check = () => verifyMigration({ spec: specOf(m), engine: "builtin", ledgers: m.state });

    const sourceMark = sourceProxy.commands.length;
    const destinationMark = destinationProxy.commands.length;
    const first = await check();
    expect(first).toMatchObject({ sourceMessages: 36, destMessages: 36, missing: 0, provenByCopies: 3 });
    // Two UID lists per folder, no message read on either side.
    const read = (commands: string[]) => commands.filter((command) => command.endsWith("FETCH"));
    expect(read(sourceProxy.commands.slice(sourceMark))).toEqual([]);
    expect(read(destinationProxy.commands.slice(destinationMark))).toEqual([]);
    // The same figures as the check that reads every message.
    const full = await verifyMigration({ spec: specOf(m), engine: "builtin" });
    expect(first.folders).toEqual(full.folders);

    // A copy removed behind everyone's back, and mail the run never saw: both found, by the full read.
    await withDestination(m, async (client) => {
      await client.mailboxOpen("INBOX");
      await client.messageDelete("4", { uid: true });
    });
    await withSource(m, async (client) => {
      await client.append("Sent", message("check-ledger-late", 1).source, ["\\Seen"]);
    });
    const after = await check();
    expect(after).toMatchObject({ sourceMessages: 37, destMessages: 35, missing: 2, provenByCopies: 1 });
    expect(after.folders.filter((folder) => folder.missing > 0).map((folder) => folder.folder)).toEqual([
      "INBOX",
      "Sent",
    ]);
  });
});
