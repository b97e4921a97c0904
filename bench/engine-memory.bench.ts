import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { GenerateLargeMailboxOptions } from "../packages/testkit/src/index.ts";
import { generateLargeMailbox, startImapPair } from "../packages/testkit/src/index.ts";
import { benchSpec, messageCount, runBuiltin } from "./engine.bench.ts";
import type { BenchRow } from "./types.ts";

/*
 * The built-in engine's peak resident memory on the two mailboxes that break engines holding too much:
 * (a) one folder of 100,000 small messages (per-message state must stay small), (b) 20 messages of
 * 40–50 MB (a message must stream from FETCH to APPEND rather than sit in memory several times over).
 * The figure is the kernel's high-water mark (VmHWM) of the engine process over the whole copy.
 */
const CLI = fileURLToPath(new URL("../packages/core/dist/engine/imapferry-sync.mjs", import.meta.url));
const PASSWORD = "bench-Password-1";
const LIMIT_MIB = 200;

const CASES: { name: string; mailbox: GenerateLargeMailboxOptions }[] = [
  {
    name: "built-in engine: peak RSS, 100,000 small messages in one folder",
    mailbox: { messages: 100_000, folders: 1, averageSize: 2_500, maxSize: 64 * 1024, seed: 11 },
  },
  {
    name: "built-in engine: peak RSS, 20 messages of 40–50 MB",
    mailbox: {
      messages: 20,
      folders: 2,
      averageSize: 45_000_000,
      minSize: 40_000_000,
      maxSize: 50_000_000,
      seed: 12,
    },
  },
];

export default async function engineMemoryBench(): Promise<BenchRow[]> {
  if (!existsSync(CLI)) {
    throw new Error(`${CLI} is missing: build first (pnpm --filter @imapferry/core build, or pnpm bench).`);
  }
  const rows: BenchRow[] = [];
  for (const { name, mailbox: options } of CASES) {
    // A Dovecot pair per case, so the first case's 100,000 files are gone before the next is seeded.
    const pair = await startImapPair();
    try {
      const mailbox = generateLargeMailbox(options);
      const user = "memory@example.com";
      await pair.source.addUser(user, PASSWORD);
      await pair.destination.addUser(user, PASSWORD);
      await pair.source.seedMaildir(user, mailbox);
      process.stderr.write(
        `bench: engine-memory: ${mailbox.messageCount} messages, ${(mailbox.totalBytes / 1e6).toFixed(1)} MB seeded\n`,
      );
      const run = await runBuiltin(benchSpec(pair, user, user));
      const copied = await messageCount(pair.destination, user);
      if (run.code !== 0 || copied !== mailbox.messageCount) {
        throw new Error(
          `imapferry-sync exited ${run.code} with ${copied}/${mailbox.messageCount} messages copied:\n${run.output.slice(-3000)}`,
        );
      }
      const mib = run.peakRssBytes / 2 ** 20;
      process.stderr.write(
        `bench: engine-memory: copied in ${run.seconds.toFixed(1)} s, peak RSS ${mib.toFixed(0)} MiB\n`,
      );
      rows.push({
        name,
        figure: mib,
        unit: "MiB",
        baseline: null,
        baselineName: `${(mailbox.totalBytes / 2 ** 20).toFixed(0)} MiB of mail copied in ${run.seconds.toFixed(0)} s`,
        ratio: null,
        target: `< ${LIMIT_MIB} MiB`,
        lowerIsBetter: true,
      });
    } finally {
      await pair.stop();
    }
  }
  return rows;
}
