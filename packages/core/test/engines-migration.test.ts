import { readFileSync } from "node:fs";
import type { ImapPair } from "@imapferry/testkit";
import { generateLargeMailbox, readMailbox, startImapPair } from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ParsedEvent } from "../src/engines/imapsync/parser.ts";
import { preflight } from "../src/engines/preflight.ts";
import { runMigrationEngine } from "../src/engines/run-engine.ts";
import type { ResolvedEngine } from "../src/engines/select-engine.ts";
import { resolveEngine } from "../src/engines/select-engine.ts";
import type { MigrationSpec } from "../src/engines/types.ts";
import { isProcessAlive } from "./support/process-alive.ts";

/*
 * The runner driving each engine through the same spawn path the worker uses, against a real Dovecot
 * pair. The built-in engine always runs; real imapsync runs when IMAPSYNC_BIN points at it.
 */

const IMAPSYNC_BIN = process.env.IMAPSYNC_BIN;
const USER = "carol@example.com";
const SOURCE_PASSWORD = "Source-pw-31337-ünï";
const DEST_PASSWORD = "Dest-pw-42-zebra";

function cmdlineOf(pid: number): string {
  // NUL-separated argv, exactly what `ps` and every local user can read.
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
}

const engines: { name: string; enabled: boolean; resolve: () => Promise<ResolvedEngine> }[] = [
  { name: "built-in engine", enabled: true, resolve: () => resolveEngine({ engine: "builtin" }) },
  {
    name: "imapsync",
    enabled: Boolean(IMAPSYNC_BIN),
    resolve: () =>
      resolveEngine({ engine: "imapsync", ...(IMAPSYNC_BIN ? { imapsyncBin: IMAPSYNC_BIN } : {}) }),
  },
];

describe.each(engines)("the runner driving the $name", ({ enabled, resolve }) => {
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
      expect(cmdlines[0]).toContain(`--user1 ${USER}`);
      for (const text of [...cmdlines, ...lines]) {
        expect(text).not.toContain(SOURCE_PASSWORD);
        expect(text).not.toContain(DEST_PASSWORD);
      }
      expect(events.filter((e) => e.type === "message" && e.action === "copied")).toHaveLength(
        small.messageCount,
      );
      expect(events.filter((e) => e.type === "login" && e.ok)).toHaveLength(2);

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

  it.skipIf(!enabled)("cancel stops the engine within seconds and is reported as cancelled", async () => {
    const controller = new AbortController();
    let pid = 0;
    let cancelledAt = 0;
    const result = await runMigrationEngine({
      engine,
      spec: spec(LARGE_USER),
      cancelGraceMs: 5000,
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
    const stoppedAfterMs = performance.now() - cancelledAt;
    expect(cancelledAt).toBeGreaterThan(0);
    expect(result).toMatchObject({ cancelled: true, category: "cancelled" });
    expect(result.sentence).toContain("was cancelled");
    // SIGTERM is answered at once; SIGKILL would come at 5 s.
    expect(stoppedAfterMs).toBeLessThan(5000);
    expect(isProcessAlive(pid)).toBe(false);
    const destination = await readMailbox(pair.destination, LARGE_USER, DEST_PASSWORD);
    const copied = destination.folders.reduce((sum, f) => sum + f.messages.length, 0);
    expect(copied).toBeLessThan(large.messageCount);
  });
});
