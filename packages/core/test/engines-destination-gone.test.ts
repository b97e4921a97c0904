import type { ImapPair, TcpProxy } from "@imapferry/testkit";
import { generateLargeMailbox, readMailbox, startImapPair, startTcpProxy } from "@imapferry/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ParsedEvent } from "../src/engines/imapsync/parser.ts";
import { runMigrationEngine } from "../src/engines/run-engine.ts";
import type { ResolvedEngine } from "../src/engines/select-engine.ts";
import { resolveEngine } from "../src/engines/select-engine.ts";
import type { MigrationSpec } from "../src/engines/types.ts";

// When the destination server goes away in the middle of a run, the operator reads that the
// connection was lost (which side, which host), not a storage refusal or a crash; a blip of a few
// seconds is carried by reconnecting.

const IMAPSYNC_BIN = process.env.IMAPSYNC_BIN;
const PASSWORD = "gone-Password-7";
const MESSAGES = 120;

const engines = [
  { name: "built-in engine", enabled: true, resolve: () => resolveEngine({ engine: "builtin" }) },
  {
    name: "imapsync",
    enabled: Boolean(IMAPSYNC_BIN),
    resolve: () =>
      resolveEngine({ engine: "imapsync", ...(IMAPSYNC_BIN ? { imapsyncBin: IMAPSYNC_BIN } : {}) }),
  },
];

let pair: ImapPair;
const proxies: TcpProxy[] = [];
let users = 0;

beforeAll(async () => {
  pair = await startImapPair();
});
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});
afterAll(async () => {
  await pair?.stop();
});

/** A fresh source mailbox of MESSAGES messages and an empty destination, the latter behind a proxy. */
async function setUp(): Promise<{ spec: MigrationSpec; proxy: TcpProxy; user: string }> {
  users += 1;
  const user = `gone${users}@example.com`;
  await pair.source.addUser(user, PASSWORD);
  await pair.destination.addUser(user, PASSWORD);
  await pair.source.seedMaildir(
    user,
    generateLargeMailbox({ messages: MESSAGES, folders: 1, averageSize: 2000, seed: users }),
  );
  const proxy = await startTcpProxy({ host: pair.destination.host, port: pair.destination.port });
  proxies.push(proxy);
  const side = (port: number) => ({
    host: "127.0.0.1",
    port,
    security: "none" as const,
    acceptSelfSigned: false,
    user,
    password: PASSWORD,
  });
  return {
    spec: {
      source: side(pair.source.port),
      destination: side(proxy.port),
      dryRun: false,
      // About 20 s of copying: the cut falls in the middle.
      options: { maxMessagesPerSecond: 6 },
    },
    proxy,
    user,
  };
}

function copied(events: ParsedEvent[]): number {
  return events.filter((e) => e.type === "message" && e.action === "copied").length;
}

/** Starts the engine on `spec` and resolves once it has copied ten messages. */
async function startAndCopyTen(engine: ResolvedEngine, spec: MigrationSpec) {
  const lines: string[] = [];
  const events: ParsedEvent[] = [];
  const running = runMigrationEngine({
    engine,
    spec,
    onLine: (line) => lines.push(line),
    onEvent: (event) => events.push(event),
  });
  await waitUntil(() => copied(events) >= 10, "ten messages copied");
  return { lines, running };
}

async function waitUntil(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(engines)("the $name, when the destination goes away mid-run", ({ enabled, resolve }) => {
  let engine: ResolvedEngine;
  beforeAll(async () => {
    if (enabled) engine = await resolve();
  });

  it.skipIf(!enabled)(
    "says the connection to the destination was lost, naming the host, not a refusal or a crash",
    async () => {
      const { spec, proxy } = await setUp();
      const { lines, running } = await startAndCopyTen(engine, spec);
      // Gone for good: the connections drop and new ones are refused.
      await proxy.close();
      const result = await running;

      const tail = lines.slice(-40).join("\n");
      expect(result.exitCode, tail).not.toBe(0);
      expect(result.category, tail).toBe("destination-connect");
      expect(result.sentence, tail).toMatch(
        /^The connection to the destination server 127\.0\.0\.1 was lost/,
      );
      expect(result.sentence).toContain(spec.destination.user);
      expect(result.sentence).not.toMatch(/refused to store|SIGPIPE|out of memory/);
    },
    120_000,
  );
});

describe("the built-in engine, when the destination blinks for a few seconds", () => {
  it("reconnects with backoff and completes the mailbox, every message exactly once", async () => {
    const engine = await resolveEngine({ engine: "builtin" });
    const { spec, proxy, user } = await setUp();
    const { lines, running } = await startAndCopyTen(engine, spec);
    await proxy.close();
    await new Promise((resolve) => setTimeout(resolve, 4000));
    proxies.push(
      await startTcpProxy({ host: pair.destination.host, port: pair.destination.port }, proxy.port),
    );
    const result = await running;

    expect(result.exitCode, lines.slice(-40).join("\n")).toBe(0);
    const source = await readMailbox(pair.source, user, PASSWORD);
    const destination = await readMailbox(pair.destination, user, PASSWORD);
    expect(destination).toEqual(source);
    expect(lines.some((line) => line.startsWith("Connection lost while syncing folder"))).toBe(true);
  }, 120_000);
});
