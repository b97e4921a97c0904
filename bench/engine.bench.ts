import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import type { JobView, MigrationSpec, ServiceContext } from "@imapferry/core";
import {
  buildImapsyncArgs,
  builtinEngineCommand,
  CHANNELS,
  createEventHub,
  createJob,
  createServer,
  defaultEngineRunner,
  engineEnv,
  FolderStates,
  getJob,
  readLog,
  resolveEngine,
  startWorker,
} from "@imapferry/core";
import type { ImapPair, ImapServer } from "../packages/testkit/src/index.ts";
// The bench is a workspace-level tool, not a package: it takes the test harness from its sources
// (tsx runs them) and the engine from its build, which `pnpm bench` makes first.
import { generateLargeMailbox, startImapPair } from "../packages/testkit/src/index.ts";
import { benchContext, freshBenchDatabase } from "./csv-import.bench.ts";
import type { BenchRow } from "./types.ts";

/*
 * The built-in engine against dsync and the real imapsync on the same data in the same run: 2,000
 * generated messages (~130 MB, 1 KB–4 MB, 6 folders) in a source Dovecot. Each engine copies them to
 * a second Dovecot over IMAP on both sides, with the same argv (what imapferry builds for a job);
 * the dsync baseline is `doveadm backup -R` pulling them from the same source over imapc into a
 * local Maildir (dsync reads over IMAP but writes to local storage, so it is the practical ceiling).
 * With IMAPSYNC_BIN set, imapsync also runs twice more per round: by hand (spawned directly, as an
 * operator would) and through a job (created in the database, dispatched by a worker, pre-flight
 * counted, logged, finished), which gives the control plane's overhead over raw imapsync.
 * Each variant runs RUNS (imapsync: IMAPSYNC_RUNS) times into a fresh destination user, the
 * variants interleaved so that the runs of one round share the machine's load; each figure is the
 * median of its rounds, and each ratio the median of the ratios within rounds.
 */
const MESSAGES = 2000;
const FOLDERS = 6;
/**
 * Rounds of each variant. The machine's mood moves one run by 15-50 % (dsync took 0.9-2.6 s on one
 * afternoon), and it moves the variants of one round together: so each ratio is taken within a round,
 * and the table shows the median of the rounds' ratios, not the ratio of two bests taken minutes apart.
 */
const RUNS = 5;
const IMAPSYNC_RUNS = 5;
const CLI = fileURLToPath(new URL("../packages/core/dist/engine/imapferry-sync.mjs", import.meta.url));
const PASSWORD = "bench-Password-1";
const IMAPSYNC_BIN = process.env.IMAPSYNC_BIN;

interface Timed {
  seconds: number;
  peakRssBytes: number;
  output: string;
  code: number | null;
}

/** VmHWM is the kernel's own high-water mark of the process's resident set. */
export async function peakRss(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/**
 * Spawns an engine, keeps its output, and times it to its exit; samples its peak RSS meanwhile. With
 * `states`, the engine gets the state channel as descriptor 3 (as the worker gives the built-in engine)
 * and what it reports is applied to them.
 */
export function runTimed(
  bin: string,
  args: readonly string[],
  env: Record<string, string>,
  states?: FolderStates,
): Promise<Timed> {
  const started = performance.now();
  const child = spawn(bin, [...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8", ...env },
    stdio: states ? ["ignore", "pipe", "pipe", "pipe"] : ["ignore", "pipe", "pipe"],
  });
  const channel = states ? (child.stdio[3] as Duplex) : undefined;
  const reported: Buffer[] = [];
  channel?.write(`${JSON.stringify(states?.all())}\n`);
  channel?.on("data", (chunk: Buffer) => reported.push(chunk));
  const chunks: Buffer[] = [];
  child.stdout?.on("data", (chunk: Buffer) => chunks.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => chunks.push(chunk));
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
      for (const line of Buffer.concat(reported).toString("utf8").split("\n")) {
        if (line) states?.apply(JSON.parse(line));
      }
      resolve({
        seconds: (performance.now() - started) / 1000,
        peakRssBytes: peak,
        output: Buffer.concat(chunks).toString("utf8"),
        code,
      });
    });
  });
}

/** The migration of `user` to `destinationUser`, plain IMAP on both sides, as a job would run it. */
export function benchSpec(pair: ImapPair, user: string, destinationUser: string): MigrationSpec {
  const side = (server: ImapServer, login: string) => ({
    host: server.host,
    port: server.port,
    security: "none" as const,
    acceptSelfSigned: false,
    user: login,
    password: PASSWORD,
  });
  return {
    source: side(pair.source, user),
    destination: side(pair.destination, destinationUser),
    dryRun: false,
    options: {},
  };
}

/**
 * The built-in engine's script with the argv and environment imapferry gives any engine, and the
 * state channel when given the states to keep (a job's run has it).
 */
export function runBuiltin(spec: MigrationSpec, states?: FolderStates): Promise<Timed> {
  // The command the worker runs (with its Node flags), on the built script.
  const { bin, prefixArgs } = builtinEngineCommand(CLI);
  const args = [...prefixArgs, ...buildImapsyncArgs(spec, "builtin"), ...(states ? ["--statefd", "3"] : [])];
  return runTimed(bin, args, engineEnv(spec), states);
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

/** Messages in all of a user's folders, counted by Dovecot itself. */
export async function messageCount(server: ImapServer, user: string): Promise<number> {
  const out = await server.doveadm(["-f", "flow", "mailbox", "status", "-u", user, "messages", "*"]);
  return [...out.matchAll(/messages=(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
}

async function expectCopied(
  what: string,
  pair: ImapPair,
  user: string,
  expected: number,
  output = "",
): Promise<void> {
  const copied = await messageCount(pair.destination, user);
  if (copied !== expected) {
    throw new Error(
      `${what} left ${copied}/${expected} messages on the destination:\n${output.split("\n").slice(-30).join("\n")}`,
    );
  }
}

/** A worker running real imapsync for jobs, with the bench Dovecot pair registered as two servers. */
export async function startImapsyncJobs(pair: ImapPair, bin: string) {
  const database = await freshBenchDatabase();
  const ctx: ServiceContext = benchContext(database.handle);
  const engine = await resolveEngine({ engine: "imapsync", imapsyncBin: bin });
  const runner = defaultEngineRunner(engine);
  // The engine's own share of a job's wall time: the rest is imapferry's (dispatch, pre-flight,
  // writing the outcome). Measured inside the worker, so it does not depend on the machine's mood
  // the way two separate runs do.
  let engineSeconds = 0;
  const worker = await startWorker({
    ctx,
    engine,
    concurrency: 1,
    engineRunner: {
      ...runner,
      async run(input) {
        const started = performance.now();
        try {
          return await runner.run(input);
        } finally {
          engineSeconds = (performance.now() - started) / 1000;
        }
      },
    },
  });
  const server = (name: string, imap: ImapServer) =>
    createServer(ctx, { name, host: imap.host, port: imap.port, security: "none" });
  const [source, destination] = [
    await server("source", pair.source),
    await server("destination", pair.destination),
  ];
  // The job's end arrives as a NOTIFY, as the panel learns it: polling the database every few
  // milliseconds would load the machine the job runs on and slow the very run being measured.
  const hub = createEventHub(ctx.pool);
  const ended = new Map<number, () => void>();
  const unsubscribe = hub.subscribe(CHANNELS.job, function onJobEvent(event) {
    if (!["queued", "running", "waiting"].includes(event.status)) ended.get(event.jobId)?.();
  });
  await unsubscribe.ready;
  return {
    version: engine.version,
    /**
     * Creates the job and waits for it to end, as an operator would: wall time from create to done,
     * and the CPU this process (the worker, around imapsync) spent meanwhile.
     */
    async run(
      user: string,
      destinationUser: string,
    ): Promise<{ seconds: number; engineSeconds: number; workerCpuSeconds: number; job: JobView }> {
      const started = performance.now();
      const cpu = process.cpuUsage();
      const created = await createJob(ctx, {
        sourceServerId: source.id,
        sourceEmail: user,
        sourcePassword: PASSWORD,
        destServerId: destination.id,
        destEmail: destinationUser,
        destPassword: PASSWORD,
        dryRun: false,
      });
      const end = new Promise<void>((resolve) => ended.set(created.id, resolve));
      // A NOTIFY sent before the listener was set is missed: the row then says it has ended.
      if (!["queued", "running"].includes((await getJob(ctx, created.id)).status)) ended.get(created.id)?.();
      await end;
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      const job = await getJob(ctx, created.id);
      return { seconds, engineSeconds, workerCpuSeconds: (used.user + used.system) / 1e6, job };
    },
    /** The job's log as the panel shows it (for looking into a run). */
    async log(jobId: number): Promise<string> {
      return (await readLog(ctx, jobId, 0, 10 * 1024 * 1024)).chunks.map((chunk) => chunk.text).join("");
    },
    async stop() {
      unsubscribe();
      await hub.close();
      await worker.stop();
      await database.drop();
    },
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The median over rounds of `numerators[i] / denominators[i]`: each ratio within one round's load. */
function pairedMedian(numerators: readonly number[], denominators: readonly number[]): number {
  return median(numerators.map((value, i) => value / (denominators[i] as number)));
}

function notRun(name: string, unit: string, target: string, why: string): BenchRow {
  return { name, figure: Number.NaN, unit, baseline: null, baselineName: why, ratio: null, target };
}

export default async function engineBench(): Promise<BenchRow[]> {
  if (!existsSync(CLI)) {
    throw new Error(`${CLI} is missing: build first (pnpm --filter @imapferry/core build, or pnpm bench).`);
  }
  if (!IMAPSYNC_BIN) {
    process.stderr.write(
      "bench: engine: IMAPSYNC_BIN is not set, so the real imapsync is not run (see the README's bench instructions)\n",
    );
  }
  const pair = await startImapPair();
  const jobs = IMAPSYNC_BIN ? await startImapsyncJobs(pair, IMAPSYNC_BIN) : undefined;
  try {
    const mailbox = generateLargeMailbox({ messages: MESSAGES, folders: FOLDERS });
    const user = "bench@example.com";
    await pair.source.addUser(user, PASSWORD);
    await pair.source.seedMaildir(user, mailbox);
    const megabytes = mailbox.totalBytes / 1e6;
    process.stderr.write(
      `bench: engine: ${mailbox.messageCount} messages, ${megabytes.toFixed(1)} MB in ${mailbox.folders.length} folders${jobs ? `; imapsync ${jobs.version ?? "(version unknown)"} at ${IMAPSYNC_BIN}` : ""}\n`,
    );

    let builtinPeak = 0;
    // The check a job runs after every real copy (engines/verification), timed on each fresh copy.
    const checker = defaultEngineRunner(await resolveEngine({ engine: "builtin" }));
    /** Seconds per round (index = round - 1). */
    const builtin: number[] = [];
    const checks: number[] = [];
    const dsyncs: number[] = [];
    const byHand: number[] = [];
    const throughJob: number[] = [];
    /** Per job: wall time minus the engine's time inside it, over the engine's time. */
    const aroundShares: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const engineUser = `engine${run}@example.com`;
      await pair.destination.addUser(engineUser, PASSWORD);
      // As a job runs it: with the state channel, whose folder states the check after it is given.
      const states = new FolderStates();
      const engine = await runBuiltin(benchSpec(pair, user, engineUser), states);
      if (engine.code !== 0)
        throw new Error(`imapferry-sync exited ${engine.code}:\n${engine.output.slice(-3000)}`);
      await expectCopied("imapferry-sync", pair, engineUser, mailbox.messageCount, engine.output);
      process.stderr.write(
        `bench: engine run ${run}: built-in ${engine.seconds.toFixed(2)} s, peak RSS ${(engine.peakRssBytes / 2 ** 20).toFixed(0)} MiB\n`,
      );
      builtin.push(engine.seconds);
      builtinPeak = Math.max(builtinPeak, engine.peakRssBytes);
      const checkStarted = performance.now();
      const verification = await checker.verify!(benchSpec(pair, user, engineUser), {
        errorLines: [],
        signal: new AbortController().signal,
        ledgers: states,
      });
      const checked = (performance.now() - checkStarted) / 1000;
      if (verification.missing !== 0 || verification.sourceMessages !== mailbox.messageCount) {
        throw new Error(
          `The check after the copy found ${verification.missing} missing of ${verification.sourceMessages}`,
        );
      }
      process.stderr.write(`bench: engine run ${run}: check after the copy ${checked.toFixed(2)} s\n`);
      checks.push(checked);

      const dsyncUser = `dsync${run}@example.com`;
      await pair.destination.addUser(dsyncUser, PASSWORD);
      const dsync = await runDsync(pair, user, dsyncUser);
      await expectCopied("dsync", pair, dsyncUser, mailbox.messageCount);
      process.stderr.write(`bench: engine run ${run}: dsync ${dsync.toFixed(2)} s\n`);
      dsyncs.push(dsync);

      if (!jobs || !IMAPSYNC_BIN || run > IMAPSYNC_RUNS) continue;
      // Alternating which goes first, so neither always meets the Dovecots' caches warmer.
      const order = run % 2 === 1 ? (["hand", "job"] as const) : (["job", "hand"] as const);
      for (const how of order) {
        const imapsyncUser = `imapsync-${how}${run}@example.com`;
        await pair.destination.addUser(imapsyncUser, PASSWORD);
        if (how === "hand") {
          const spec = benchSpec(pair, user, imapsyncUser);
          const hand = await runTimed(IMAPSYNC_BIN, buildImapsyncArgs(spec), engineEnv(spec));
          if (hand.code !== 0) throw new Error(`imapsync exited ${hand.code}:\n${hand.output.slice(-3000)}`);
          await expectCopied("imapsync", pair, imapsyncUser, mailbox.messageCount, hand.output);
          byHand.push(hand.seconds);
          process.stderr.write(`bench: engine run ${run}: imapsync by hand ${hand.seconds.toFixed(2)} s\n`);
        } else {
          const { seconds, engineSeconds, workerCpuSeconds, job } = await jobs.run(user, imapsyncUser);
          if (job.status !== "done") {
            throw new Error(`The imapsync job ended ${job.status}: ${job.errorMessage ?? ""}`);
          }
          await expectCopied("the imapsync job", pair, imapsyncUser, mailbox.messageCount);
          throughJob.push(seconds);
          aroundShares.push((seconds - engineSeconds) / engineSeconds);
          process.stderr.write(
            `bench: engine run ${run}: imapsync through a job ${seconds.toFixed(2)} s, of which imapsync ${engineSeconds.toFixed(2)} s; the worker's CPU meanwhile ${workerCpuSeconds.toFixed(2)} s\n`,
          );
        }
      }
    }

    const builtinSeconds = median(builtin);
    const dsyncSeconds = median(dsyncs);
    const byHandSeconds = median(byHand);
    const builtinRate = mailbox.messageCount / builtinSeconds;
    const dsyncRate = mailbox.messageCount / dsyncSeconds;
    const imapsyncRate = mailbox.messageCount / byHandSeconds;
    const why = "imapsync not run: IMAPSYNC_BIN is not set";
    const rounds = (n: number) => `; medians of ${n} rounds, the ratio's within each round`;
    return [
      {
        name: "built-in engine: messages/s",
        figure: builtinRate,
        unit: "msgs/s",
        baseline: dsyncRate,
        baselineName: `doveadm backup -R over imapc${rounds(RUNS)}`,
        ratio: pairedMedian(dsyncs, builtin),
        target: "ratio ≥ 1.0 (faster than dsync)",
      },
      {
        name: "built-in engine: MB/s",
        figure: megabytes / builtinSeconds,
        unit: "MB/s",
        baseline: megabytes / dsyncSeconds,
        baselineName: `doveadm backup -R over imapc${rounds(RUNS)}`,
        ratio: pairedMedian(dsyncs, builtin),
        target: "ratio ≥ 1.0 (faster than dsync)",
      },
      {
        name: "check after a built-in copy: added time",
        figure: median(checks),
        unit: "s",
        baseline: builtinSeconds,
        baselineName: `the built-in copy of ${MESSAGES} messages it checked${rounds(RUNS)}`,
        ratio: pairedMedian(checks, builtin),
        target: "ratio ≤ 0.10",
      },
      jobs
        ? {
            name: "built-in engine vs imapsync: messages/s",
            figure: builtinRate,
            unit: "msgs/s",
            baseline: imapsyncRate,
            baselineName: `imapsync ${jobs.version ?? ""} by hand, same corpus${rounds(byHand.length)}`,
            ratio: pairedMedian(byHand, builtin),
            target: "ratio ≥ 4",
          }
        : notRun("built-in engine vs imapsync: messages/s", "msgs/s", "ratio ≥ 4", why),
      jobs
        ? {
            name: "imapsync through an imapferry job: wall time",
            figure: median(throughJob),
            unit: "s",
            baseline: byHandSeconds,
            baselineName: `the same imapsync run by hand${rounds(byHand.length)}`,
            ratio: pairedMedian(throughJob, byHand),
            target: "ratio ≤ 1.05 (≤ 5 % overhead)",
            lowerIsBetter: true,
          }
        : notRun("imapsync through an imapferry job: wall time", "s", "ratio ≤ 1.05", why),
      jobs
        ? {
            // The same overhead measured inside one run, immune to the load changing between runs.
            name: "imapferry's time around imapsync in a job (dispatch, pre-flight, finish)",
            figure: 100 * median(aroundShares),
            unit: "% of imapsync's time",
            baseline: null,
            baselineName: "imapsync's own run inside the same job",
            ratio: null,
            target: "≤ 5 %",
            lowerIsBetter: true,
          }
        : notRun("imapferry's time around imapsync in a job", "%", "≤ 5 %", why),
      {
        name: "built-in engine: peak RSS (2,000 messages)",
        figure: builtinPeak / 2 ** 20,
        unit: "MiB",
        baseline: null,
        baselineName: "",
        ratio: null,
        target: "< 200 MiB",
        lowerIsBetter: true,
      },
    ];
  } finally {
    await jobs?.stop();
    await pair.stop();
  }
}
