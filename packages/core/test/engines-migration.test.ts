import type { ImapPair, ReadMailboxOptions } from "@imapferry/testkit";
import {
  freeClosedPort,
  generateLargeMailbox,
  readMailbox,
  seedMailbox,
  standardMailboxSpec,
  startImapPair,
} from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ParsedEvent } from "../src/engines/imapsync/parser.ts";
import { preflight } from "../src/engines/preflight.ts";
import type { RunEngineResult } from "../src/engines/run-engine.ts";
import { runMigrationEngine } from "../src/engines/run-engine.ts";
import type { ResolvedEngine } from "../src/engines/select-engine.ts";
import { resolveEngine } from "../src/engines/select-engine.ts";
import type { MigrationSpec } from "../src/engines/types.ts";
import { applyEvent, emptyProgress } from "../src/queue/progress-tracker.ts";
import { cmdlineOf } from "./support/engine-worker.ts";
import {
  ADDED_HEADER_COPIES,
  HEADERLESS,
  messageCount,
  withoutMessages,
} from "./support/mailbox-snapshot.ts";
import { isProcessAlive } from "./support/process-alive.ts";

/*
 * The runner driving each engine through the same spawn path the worker uses, against a real Dovecot
 * pair. The built-in engine always runs; the real imapsync runs when IMAPSYNC_BIN points at it (`.ci/run`
 * arranges that), and its cases are skipped with a printed reason when it does not. Every case is one
 * imapsync can do too, so none is skipped for it beyond IMAPSYNC_BIN being unset.
 */

const IMAPSYNC_BIN = process.env.IMAPSYNC_BIN;
const IGNORING_MESSAGE_ID: ReadMailboxOptions = { ignoreHeaders: ["Message-ID"] };
const USER = "carol@example.com";
const SOURCE_PASSWORD = "Source-pw-31337-ünï";
const DEST_PASSWORD = "Dest-pw-42-zebra";

if (!IMAPSYNC_BIN) {
  console.warn(
    "engines-migration: the imapsync cases are skipped — IMAPSYNC_BIN is not set, so the real imapsync cannot be run here (set it to imapsync's absolute path to run them).",
  );
}

interface EngineCase {
  name: string;
  enabled: boolean;
  resolve: () => Promise<ResolvedEngine>;
}

const engines: EngineCase[] = [
  {
    name: "built-in engine",
    enabled: true,
    resolve: () => resolveEngine({ engine: "builtin" }),
  },
  {
    name: "imapsync",
    enabled: Boolean(IMAPSYNC_BIN),
    resolve: () =>
      resolveEngine({ engine: "imapsync", ...(IMAPSYNC_BIN ? { imapsyncBin: IMAPSYNC_BIN } : {}) }),
  },
];

describe.each(engines)("the runner driving the $name", ({ name, enabled, resolve }) => {
  let pair: ImapPair;
  let engine: ResolvedEngine;
  const small = generateLargeMailbox({ messages: 40, folders: 4, averageSize: 3000, seed: 7 });
  const large = generateLargeMailbox({ messages: 1500, folders: 3, averageSize: 20_000, seed: 8 });
  const LARGE_USER = "dave@example.com";

  beforeAll(async () => {
    if (!enabled) return;
    engine = await resolve();
    pair = await startImapPair();
    for (const [user, mailbox] of [
      [USER, small],
      [LARGE_USER, large],
    ] as const) {
      await pair.source.addUser(user, SOURCE_PASSWORD);
      await pair.destination.addUser(user, DEST_PASSWORD);
      await pair.source.seedMaildir(user, mailbox);
    }
  });
  afterAll(async () => {
    await pair?.stop();
  });

  function spec(user: string, overrides: Partial<MigrationSpec> = {}): MigrationSpec {
    return {
      source: {
        host: pair.source.host,
        port: pair.source.tlsPort,
        security: "tls",
        acceptSelfSigned: true,
        user,
        password: SOURCE_PASSWORD,
      },
      destination: {
        host: pair.destination.host,
        port: pair.destination.port,
        security: "starttls",
        acceptSelfSigned: true,
        user,
        password: DEST_PASSWORD,
      },
      dryRun: false,
      options: {},
      ...overrides,
    };
  }

  let accounts = 0;
  /** A fresh user on both servers (same passwords as `spec` uses), so a case starts from empty mailboxes. */
  async function newUser(): Promise<string> {
    accounts += 1;
    const user = `user${accounts}@example.com`;
    await pair.source.addUser(user, SOURCE_PASSWORD);
    await pair.destination.addUser(user, DEST_PASSWORD);
    return user;
  }

  /** A fresh user whose source mailbox holds the standard corpus. */
  async function newCorpusUser(): Promise<string> {
    const user = await newUser();
    await seedMailbox(pair.source, user, SOURCE_PASSWORD, standardMailboxSpec());
    return user;
  }

  interface Run {
    result: RunEngineResult;
    lines: string[];
    events: ParsedEvent[];
  }

  async function run(s: MigrationSpec, signal?: AbortSignal): Promise<Run> {
    const lines: string[] = [];
    const events: ParsedEvent[] = [];
    const result = await runMigrationEngine({
      engine,
      spec: s,
      onLine: (line) => lines.push(line),
      onEvent: (event) => events.push(event),
      ...(signal ? { signal } : {}),
    });
    return { result, lines, events };
  }

  function copiedCount(events: ParsedEvent[]): number {
    return events.filter((e) => e.type === "message" && e.action === "copied").length;
  }

  const readSource = (user: string, options?: ReadMailboxOptions) =>
    readMailbox(pair.source, user, SOURCE_PASSWORD, options);
  const readDestination = (user: string, options?: ReadMailboxOptions) =>
    readMailbox(pair.destination, user, DEST_PASSWORD, options);

  it.skipIf(!enabled)(
    "migrates a mailbox with no password in the child's /proc/PID/cmdline or in any output line",
    async () => {
      const lines: string[] = [];
      const events: ParsedEvent[] = [];
      const cmdlines: string[] = [];
      let pid = 0;
      const result = await runMigrationEngine({
        engine,
        spec: spec(USER),
        onSpawn(spawned) {
          pid = spawned;
          cmdlines.push(cmdlineOf(spawned));
        },
        onLine(line) {
          lines.push(line);
        },
        onEvent(event) {
          events.push(event);
          // Also look while it works: by then the engine has read its environment and connected.
          if (event.type === "folder" && event.index === 1) cmdlines.push(cmdlineOf(pid));
        },
      });
      expect(result).toMatchObject({ exitCode: 0, category: "ok", cancelled: false });
      expect(result.stats?.messagesTransferred).toBe(small.messageCount);

      expect(cmdlines).toHaveLength(2);
      // The reading at spawn can race the exec (setpriv, then the engine): one of the two must show argv.
      expect(cmdlines.some((text) => text.includes(`--user1 ${USER}`))).toBe(true);
      for (const text of [...cmdlines, ...lines]) {
        expect(text).not.toContain(SOURCE_PASSWORD);
        expect(text).not.toContain(DEST_PASSWORD);
      }
      expect(events.filter((e) => e.type === "message" && e.action === "copied")).toHaveLength(
        small.messageCount,
      );
      expect(events.filter((e) => e.type === "login" && e.ok)).toHaveLength(2);

      // The progress an operator watches, folded from the live output as the worker folds it.
      const progress = emptyProgress(small.messageCount);
      for (const event of events) applyEvent(progress, event);
      expect(progress).toMatchObject({
        total: small.messageCount,
        copied: small.messageCount,
        skipped: 0,
        errors: 0,
        bytesCopied: small.totalBytes,
        folderIndex: small.folders.length,
        folderCount: small.folders.length,
        messagesLeft: 0,
      });
      expect(progress.msgsPerSecond).toBeGreaterThan(0);
      expect(result.stats).toMatchObject({
        messagesTransferred: small.messageCount,
        bytesTransferred: small.totalBytes,
        errors: 0,
      });

      const [source, destination] = await Promise.all([
        readMailbox(pair.source, USER, SOURCE_PASSWORD),
        readMailbox(pair.destination, USER, DEST_PASSWORD),
      ]);
      expect(destination).toEqual(source);

      // The pre-flight total is the number the engine then copied.
      const totals = await preflight(spec(USER).source, { user: USER, password: SOURCE_PASSWORD });
      expect(totals.totalMessages).toBe(small.messageCount);
      expect(totals.totalBytes).toBe(small.totalBytes);
    },
  );

  it.skipIf(!enabled)(
    "reports a wrong source password as exit 161 with a sentence naming the mailbox",
    async () => {
      const s = spec(USER);
      s.source.password = "wrong-Password-0";
      const lines: string[] = [];
      const result = await runMigrationEngine({ engine, spec: s, onLine: (l) => lines.push(l) });
      expect(result).toMatchObject({
        exitCode: 161,
        category: "source-auth",
        sentence: `The source server rejected the password for ${USER}.`,
      });
      expect(lines.join("\n")).not.toContain("wrong-Password-0");
    },
  );

  it.skipIf(!enabled)(
    "migrates the standard corpus byte for byte (folders, RFC 822 bytes, flags, internal dates), and a rerun copies nothing",
    async () => {
      const user = await newCorpusUser();
      const source = await readSource(user);

      const first = await run(spec(user));
      expect(first.result, first.lines.join("\n")).toMatchObject({ exitCode: 0, category: "ok" });
      const destination = await readDestination(user);
      // Nothing is left behind with default options: the built-in engine copies messages without a
      // Message-ID unchanged, imapsync (--addheader, on by default) with one added on top.
      if (name === "imapsync") {
        expect(await readDestination(user, IGNORING_MESSAGE_ID)).toEqual(
          await readSource(user, IGNORING_MESSAGE_ID),
        );
        expect(withoutMessages(destination, ADDED_HEADER_COPIES)).toEqual(
          withoutMessages(source, HEADERLESS),
        );
      } else {
        expect(destination).toEqual(source);
      }
      expect(destination.folders.map((f) => f.path)).toEqual(source.folders.map((f) => f.path));
      expect(destination.folders.map((f) => f.path)).toContain("Archiv/2024/Café ☕");
      expect(first.result.stats?.messagesTransferred).toBe(messageCount(source));
      expect(copiedCount(first.events)).toBe(messageCount(source));
      expect(await readSource(user)).toEqual(source);

      const rerun = await run(spec(user));
      expect(rerun.result, rerun.lines.join("\n")).toMatchObject({ exitCode: 0, category: "ok" });
      expect(rerun.result.stats?.messagesTransferred).toBe(0);
      expect(copiedCount(rerun.events)).toBe(0);
      expect(await readDestination(user)).toEqual(destination);
    },
  );

  it.skipIf(!enabled)("a dry run copies nothing and creates no folder on the destination", async () => {
    const user = await newCorpusUser();
    const source = await readSource(user);
    const before = await readDestination(user);
    expect(before.folders.map((f) => f.path)).toEqual(["INBOX"]);

    const dry = await run(spec(user, { dryRun: true }));

    expect(dry.result, dry.lines.join("\n")).toMatchObject({ exitCode: 0, category: "ok" });
    expect(dry.result.stats?.messagesTransferred).toBe(0);
    expect(dry.result.stats?.messagesWouldTransfer).toBe(messageCount(source));
    expect(copiedCount(dry.events)).toBe(0);
    expect(await readDestination(user)).toEqual(before);
    expect(await readSource(user)).toEqual(source);
  });

  it.skipIf(!enabled)(
    "reports a wrong destination password as exit 162 with a sentence naming the mailbox",
    async () => {
      const s = spec(USER);
      s.destination.password = "wrong-Password-2";
      const failed = await run(s);
      expect(failed.result, failed.lines.join("\n")).toMatchObject({
        exitCode: 162,
        category: "destination-auth",
        name: "EXIT_AUTHENTICATION_FAILURE_USER2",
      });
      expect(failed.result.sentence).toContain("The destination server rejected the password for");
      expect(failed.result.sentence).toContain(USER);
      const output = failed.lines.join("\n");
      expect(output).not.toContain("wrong-Password-2");
      expect(output).not.toContain(SOURCE_PASSWORD);
    },
  );

  it.skipIf(!enabled)(
    "reports a closed source port as exit 101 and a closed destination port as exit 102",
    async () => {
      const closed = await freeClosedPort();
      const cases = [
        { side: "source", exitCode: 101, name: "EXIT_CONNECTION_FAILURE_HOST1" },
        { side: "destination", exitCode: 102, name: "EXIT_CONNECTION_FAILURE_HOST2" },
      ] as const;
      for (const { side, exitCode, name } of cases) {
        // Plain IMAP on the closed side: no TLS handshake stands between the refusal and the exit.
        const closedSide = spec(USER);
        closedSide[side] = { ...closedSide[side], port: closed, security: "none" };
        const outcome = await run(closedSide);
        expect(outcome.result, outcome.lines.join("\n")).toMatchObject({
          exitCode,
          category: `${side}-connect`,
          name,
        });
        expect(outcome.result.sentence).toContain(`${side} server ${pair[side].host}`);
      }
    },
  );

  it.skipIf(!enabled)(
    "cancel stops the engine within seconds, is reported as cancelled, and a rerun completes the mailbox with no duplicate",
    async () => {
      const controller = new AbortController();
      let pid = 0;
      let cancelledAt = 0;
      const result = await runMigrationEngine({
        engine,
        spec: spec(LARGE_USER),
        // The built-in engine must stop by itself: a grace long enough that a loaded machine never
        // reaches the SIGKILL. imapsync's SIGTERM handler prints statistics over the IMAP connection
        // it was using, which can wait on a FETCH answer it will never read (seen once in CI, 60 s):
        // it gets the worker's own grace, after which the SIGKILL is the designed way out.
        cancelGraceMs: name === "imapsync" ? 10_000 : 60_000,
        onSpawn(spawned) {
          pid = spawned;
        },
        onEvent(event) {
          if (event.type === "message" && event.action === "copied" && !controller.signal.aborted) {
            cancelledAt = performance.now();
            controller.abort();
          }
        },
        signal: controller.signal,
      });
      expect(cancelledAt).toBeGreaterThan(0);
      expect(result).toMatchObject({ cancelled: true, category: "cancelled" });
      expect(result.sentence).toContain("was cancelled");
      // It answered SIGTERM itself (statistics, exit line): no SIGKILL was needed.
      if (name !== "imapsync") expect(result.signal).not.toBe("SIGKILL");
      expect(isProcessAlive(pid)).toBe(false);
      const copied = messageCount(await readDestination(LARGE_USER));
      expect(copied).toBeLessThan(large.messageCount);

      const source = await readSource(LARGE_USER);
      const rerun = await run(spec(LARGE_USER));
      expect(rerun.result, rerun.lines.slice(-40).join("\n")).toMatchObject({ exitCode: 0, category: "ok" });
      expect(rerun.result.stats?.messagesTransferred).toBe(large.messageCount - copied);
      // Nothing copied twice and nothing missing: the destination is the source, message for message.
      expect(await readDestination(LARGE_USER)).toEqual(source);
    },
  );
});
