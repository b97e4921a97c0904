import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseOutput } from "../packages/core/dist/index.js";
import type { ImapPair, ImapServer } from "../packages/testkit/src/index.ts";
// The bench is a workspace-level tool, not a package: it takes the test harness from its sources
// (tsx runs them) and the engine from its build, which `pnpm bench` makes first.
import { generateLargeMailbox, startImapPair } from "../packages/testkit/src/index.ts";
import type { BenchRow } from "./types.ts";

/*
 * The built-in engine against dsync on the same data in the same run: 2,000 generated messages
 * (~130 MB, 1 KB–4 MB, 6 folders) in a source Dovecot. The engine copies them to a second Dovecot
 * over IMAP on both sides; the baseline is `doveadm backup -R` pulling them from the same source
 * over imapc into a local Maildir (dsync reads over IMAP but writes to local storage, so it is the
 * practical ceiling). Each side runs RUNS times into a fresh destination user; the best run counts,
 * because on a shared 2-core machine the slower runs measure the neighbours.
 */
const MESSAGES = 2000;
const FOLDERS = 6;
const RUNS = 3;
const CLI = fileURLToPath(new URL("../packages/core/dist/engines/builtin/cli.js", import.meta.url));
const PASSWORD = "bench-Password-1";
/**
 * Real imapsync 2.229 moving this same kind of corpus (2,000 messages, ~130 MB, 6 folders) on another
 * machine. imapsync cannot run here, so its throughput comes from its own statistics block.
 */
const IMAPSYNC_LOG = fileURLToPath(
  new URL("../packages/core/test/fixtures/imapsync/bob-real.log", import.meta.url),
);

interface Timed {
  seconds: number;
  peakRssBytes: number;
  output: string;
  code: number | null;
}

/** VmHWM is the kernel's own high-water mark of the process's resident set. */
async function peakRss(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

function runEngine(
  source: ImapServer,
  destination: ImapServer,
  user: string,
  destinationUser: string,
): Promise<Timed> {
  const args = [
    ...["--host1", source.host, "--port1", String(source.port), "--user1", user, "--notls1"],
    ...[
      "--host2",
      destination.host,
      "--port2",
      String(destination.port),
      "--user2",
      destinationUser,
      "--notls2",
    ],
    ...["--noreleasecheck", "--nofoldersizes", "--nolog"],
  ];
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      IMAPSYNC_PASSWORD1: PASSWORD,
      IMAPSYNC_PASSWORD2: PASSWORD,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const chunks: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => chunks.push(chunk));
  let peak = 0;
  const pid = child.pid;
  // The high-water mark only grows, so the last reading before exit is the run's peak.
  const poll = setInterval(function readPeak() {
    if (pid === undefined) return;
    void peakRss(pid).then((value) => {
      if (value !== undefined) peak = Math.max(peak, value);
    });
  }, 20);
  return new Promise<Timed>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", function onClose(code) {
      clearInterval(poll);
      resolve({
        seconds: (performance.now() - started) / 1000,
        peakRssBytes: peak,
        output: Buffer.concat(chunks).toString("utf8"),
        code,
      });
    });
  });
}

async function runDsync(pair: ImapPair, user: string, destinationUser: string): Promise<number> {
  const started = performance.now();
  await pair.destination.doveadm([
    ...["-o", `imapc_host=${pair.source.host}`, "-o", `imapc_port=${pair.source.port}`],
    ...["-o", `imapc_user=${user}`, "-o", `imapc_password=${PASSWORD}`, "-o", "imapc_ssl=no"],
    ...["-o", "imapc_features=rfc822.size fetch-headers"],
    ...["backup", "-R", "-u", destinationUser, "imapc:"],
  ]);
  return (performance.now() - started) / 1000;
}

/** imapsync's messages/s from the figures its statistics block prints: messages transferred / transfer time. */
async function imapsyncReferenceRate(): Promise<number> {
  const events = parseOutput(await readFile(IMAPSYNC_LOG, "utf8"));
  const statistics = events.find((event) => event.type === "statistics");
  const stats = statistics?.type === "statistics" ? statistics.stats : undefined;
  if (!stats?.messagesTransferred || !stats.transferTimeSeconds) {
    throw new Error(`${IMAPSYNC_LOG} has no "Messages transferred" and "Transfer time" statistics.`);
  }
  return stats.messagesTransferred / stats.transferTimeSeconds;
}

/** Messages in all of a user's folders, counted by Dovecot itself. */
async function messageCount(server: ImapServer, user: string): Promise<number> {
  const out = await server.doveadm(["-f", "flow", "mailbox", "status", "-u", user, "messages", "*"]);
  return [...out.matchAll(/messages=(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
}

export default async function engineBench(): Promise<BenchRow[]> {
  if (!existsSync(CLI)) {
    throw new Error(`${CLI} is missing: build first (pnpm --filter @imapferry/core build, or pnpm bench).`);
  }
  // Read first: a missing or changed fixture should fail before minutes of measuring.
  const imapsyncRate = await imapsyncReferenceRate();
  const pair = await startImapPair();
  try {
    const mailbox = generateLargeMailbox({ messages: MESSAGES, folders: FOLDERS });
    const user = "bench@example.com";
    await pair.source.addUser(user, PASSWORD);
    await pair.source.seedMaildir(user, mailbox);
    const megabytes = mailbox.totalBytes / 1e6;
    process.stderr.write(
      `bench: engine: ${mailbox.messageCount} messages, ${megabytes.toFixed(1)} MB in ${mailbox.folders.length} folders\n`,
    );

    let engineBest: Timed | undefined;
    let dsyncBest = Number.POSITIVE_INFINITY;
    for (let run = 1; run <= RUNS; run++) {
      const engineUser = `engine${run}@example.com`;
      await pair.destination.addUser(engineUser, PASSWORD);
      const engine = await runEngine(pair.source, pair.destination, user, engineUser);
      const copied = await messageCount(pair.destination, engineUser);
      if (engine.code !== 0 || copied !== mailbox.messageCount) {
        throw new Error(
          `imapferry-sync exited ${engine.code} with ${copied}/${mailbox.messageCount} messages copied:\n${engine.output.split("\n").slice(-30).join("\n")}`,
        );
      }
      process.stderr.write(
        `bench: engine run ${run}: ${engine.seconds.toFixed(2)} s, peak RSS ${(engine.peakRssBytes / 2 ** 20).toFixed(0)} MiB\n`,
      );
      if (!engineBest || engine.seconds < engineBest.seconds) {
        engineBest = {
          ...engine,
          peakRssBytes: Math.max(engine.peakRssBytes, engineBest?.peakRssBytes ?? 0),
        };
      } else {
        engineBest.peakRssBytes = Math.max(engineBest.peakRssBytes, engine.peakRssBytes);
      }

      const dsyncUser = `dsync${run}@example.com`;
      await pair.destination.addUser(dsyncUser, PASSWORD);
      const dsyncSeconds = await runDsync(pair, user, dsyncUser);
      const dsyncCopied = await messageCount(pair.destination, dsyncUser);
      if (dsyncCopied !== mailbox.messageCount) {
        throw new Error(`dsync copied ${dsyncCopied}/${mailbox.messageCount} messages.`);
      }
      process.stderr.write(`bench: dsync run ${run}: ${dsyncSeconds.toFixed(2)} s\n`);
      dsyncBest = Math.min(dsyncBest, dsyncSeconds);
    }
    if (!engineBest) throw new Error("no engine run");

    const engineRate = mailbox.messageCount / engineBest.seconds;
    const dsyncRate = mailbox.messageCount / dsyncBest;
    return [
      {
        name: "built-in engine: messages/s",
        figure: engineRate,
        unit: "msgs/s",
        baseline: dsyncRate,
        baselineName: "doveadm backup -R over imapc",
        ratio: engineRate / dsyncRate,
        target: "ratio >= 0.33 (within 3x of dsync)",
      },
      {
        // Not a same-run baseline: the figure comes from a log of another machine, and says so.
        name: "built-in engine vs imapsync: messages/s",
        figure: engineRate,
        unit: "msgs/s",
        baseline: imapsyncRate,
        baselineName: "imapsync 2.229 reference from the fixture log (other machine, not same run)",
        ratio: engineRate / imapsyncRate,
        target: "≥ 2×",
      },
      {
        name: "built-in engine: MB/s",
        figure: megabytes / engineBest.seconds,
        unit: "MB/s",
        baseline: megabytes / dsyncBest,
        baselineName: "doveadm backup -R over imapc",
        ratio: dsyncBest / engineBest.seconds,
        target: "ratio >= 0.33 (within 3x of dsync)",
      },
      {
        name: "built-in engine: peak RSS",
        figure: engineBest.peakRssBytes / 2 ** 20,
        unit: "MiB",
        baseline: null,
        baselineName: "",
        ratio: null,
        target: "< 200 MiB",
        lowerIsBetter: true,
      },
    ];
  } finally {
    await pair.stop();
  }
}
