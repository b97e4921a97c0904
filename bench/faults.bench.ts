import type { ImapPair } from "../packages/testkit/src/index.ts";
import { generateLargeMailbox, startImapFaultProxy, startImapPair } from "../packages/testkit/src/index.ts";
import { benchSpec, messageCount, runBuiltin } from "./engine.bench.ts";
import type { BenchRow } from "./types.ts";

/*
 * The built-in engine against a source that drops the connection: 2,000 generated messages copied
 * through the testkit's fault-injecting IMAP proxy, once with 5 cuts at random points of the download
 * (each in the middle of a FETCH) and once without any, both through the same proxy so the only
 * difference is the faults. Each variant runs RUNS times into a fresh destination user, interleaved;
 * the best run counts. Every run must end with exit 0 and every message on the destination exactly
 * once (the count equals the source's: a message copied twice would show as one more).
 */
const MESSAGES = 2000;
const FOLDERS = 6;
const CUTS = 5;
const RUNS = 5;
const PASSWORD = "bench-Password-1";

/** `count` offsets spread at random over the middle of a download of `totalBytes`. */
function randomCutOffsets(count: number, totalBytes: number): number[] {
  return Array.from({ length: count }, () => Math.round(totalBytes * (0.1 + 0.8 * Math.random()))).sort(
    (a, b) => a - b,
  );
}

async function copyThroughProxy(
  pair: ImapPair,
  user: string,
  destinationUser: string,
  cuts: number,
  downloadBytes: number,
): Promise<{ seconds: number; cuts: number; reconnections: number }> {
  const proxy = await startImapFaultProxy({ host: pair.source.host, port: pair.source.port });
  try {
    if (cuts > 0) proxy.cutAtDownloadedBytes(randomCutOffsets(cuts, downloadBytes));
    await pair.destination.addUser(destinationUser, PASSWORD);
    const spec = benchSpec(pair, user, destinationUser);
    const run = await runBuiltin({
      ...spec,
      source: { ...spec.source, host: "127.0.0.1", port: proxy.port },
    });
    if (run.code !== 0)
      throw new Error(
        `imapferry-sync exited ${run.code}:\n${run.output
          .split("\n")
          .filter((line) => /Host[12]|[Cc]onnection|Err|folder/.test(line) && !/^msg /.test(line))
          .slice(-60)
          .join("\n")}`,
      );
    const copied = await messageCount(pair.destination, destinationUser);
    if (copied !== MESSAGES) {
      throw new Error(
        `${cuts} cuts left ${copied}/${MESSAGES} messages on the destination:\n${run.output.slice(-3000)}`,
      );
    }
    const reconnections = Number(/Reconnections to host1\s*:\s*(\d+)/.exec(run.output)?.[1] ?? 0);
    return { seconds: run.seconds, cuts: proxy.cuts, reconnections };
  } finally {
    await proxy.close();
  }
}

export default async function faultsBench(): Promise<BenchRow[]> {
  const pair = await startImapPair();
  try {
    const mailbox = generateLargeMailbox({ messages: MESSAGES, folders: FOLDERS, averageSize: 20_000 });
    const user = "faults@example.com";
    await pair.source.addUser(user, PASSWORD);
    await pair.source.seedMaildir(user, mailbox);
    process.stderr.write(
      `bench: faults: ${mailbox.messageCount} messages, ${(mailbox.totalBytes / 1e6).toFixed(1)} MB, ${CUTS} cuts per faulted run\n`,
    );
    let cleanSeconds = Number.POSITIVE_INFINITY;
    let faultedSeconds = Number.POSITIVE_INFINITY;
    for (let run = 1; run <= RUNS; run++) {
      const clean = await copyThroughProxy(pair, user, `clean${run}@example.com`, 0, mailbox.totalBytes);
      const faulted = await copyThroughProxy(
        pair,
        user,
        `faulted${run}@example.com`,
        CUTS,
        mailbox.totalBytes,
      );
      if (faulted.cuts !== CUTS) throw new Error(`the proxy cut ${faulted.cuts} connections, not ${CUTS}`);
      process.stderr.write(
        `bench: faults run ${run}: without faults ${clean.seconds.toFixed(2)} s, with ${faulted.cuts} cuts ${faulted.seconds.toFixed(2)} s (${faulted.reconnections} reconnections)\n`,
      );
      cleanSeconds = Math.min(cleanSeconds, clean.seconds);
      faultedSeconds = Math.min(faultedSeconds, faulted.seconds);
    }
    const cleanRate = MESSAGES / cleanSeconds;
    const faultedRate = MESSAGES / faultedSeconds;
    return [
      {
        name: `built-in engine, ${CUTS} dropped connections: messages/s`,
        figure: faultedRate,
        unit: "msg/s",
        baseline: cleanRate,
        baselineName: "the same run through the proxy without faults",
        ratio: faultedRate / cleanRate,
        target: "ratio ≥ 0.70",
      },
    ];
  } finally {
    await pair.stop();
  }
}
