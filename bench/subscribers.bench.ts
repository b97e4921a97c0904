import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createNetServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  CHANNELS,
  createApiToken,
  createEventHub,
  createJob,
  createLogWriter,
  createServer,
  createUser,
  type ServiceContext,
} from "@imapferry/core";
import { createClient, type ImapferryClient } from "@imapferry/sdk";
import { benchContext, freshBenchDatabase } from "./csv-import.bench.ts";
import type { BenchRow } from "./types.ts";

/*
 * 500 clients follow one job's log (logs.tail over SSE, through the SDK) while the job writes a line
 * every 50 ms through the worker's log writer (createLogWriter, with its batching). Measured: delivery
 * latency from the moment the engine's line exists to the moment a subscriber has it (which includes
 * the writer's batching), the same from the chunk's NOTIFY (the API's own part), and the API
 * server's RSS.
 * The server is a separate `imapferry start --no-worker` process, so its RSS is its own. Baseline
 * (same run): one subscriber, and the idle server's RSS.
 */
const SUBSCRIBERS = 500;
const LINE_INTERVAL_MS = 50;
const MEASURE_SECONDS = 20;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

export interface ApiProcess {
  url: string;
  pid: number;
  /** Resident memory of the server process, from /proc. */
  rssBytes(): Promise<number>;
  /** CPU time the server process used so far (user + system), in ms, from /proc. */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

/** `imapferry start --no-worker` (the built CLI, or the sources through tsx) on a free port. */
export async function startApiProcess(databaseUrl: string): Promise<ApiProcess> {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(tmpdir(), "imapferry-bench-api-"));
  const built = path.join(repoRoot, "apps/server/dist/cli.js");
  const args = existsSync(built)
    ? [built, "start", "--no-worker"]
    : [
        "--conditions=source",
        "--import",
        "tsx",
        path.join(repoRoot, "apps/server/src/cli.ts"),
        "start",
        "--no-worker",
      ];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: path.join(repoRoot, "apps/server"),
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: databaseUrl,
      IMAPFERRY_DATA_DIR: dataDir,
      IMAPFERRY_SECRET_KEY: randomBytes(32).toString("base64"),
      IMAPFERRY_ENGINE: "builtin",
      PORT: String(port),
      HOST: "127.0.0.1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes("imapferry is running")) resolve();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`imapferry start exited (${code}):\n${output}`)));
  });
  const pid = child.pid ?? 0;
  return {
    url: `http://127.0.0.1:${port}`,
    pid,
    async rssBytes() {
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    },
    async cpuMs() {
      // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100/s).
      const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.split(" ") ?? [];
      return (Number(fields[11]) + Number(fields[12])) * 10;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A user and an API token made directly in the database, before the server starts. */
export async function benchToken(ctx: ServiceContext): Promise<string> {
  const { user } = await createUser(ctx, { username: "bench", password: "bench-password-long-enough" });
  return (await createApiToken(ctx, user.id, { name: "bench" })).token;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

interface Run {
  /** Share of one core the server used while measuring. */
  serverCpuShare: number;
  /** Chunks delivered per second, all subscribers together. */
  deliveriesPerSecond: number;
  /** From the engine's line to a subscriber having it (includes the writer's batching). */
  latencies: number[];
  /** From the chunk's append (commit and NOTIFY) to a subscriber having it: the API's own part. */
  fromStored: number[];
  peakRss: number;
}

/**
 * Lines carry the time they were produced; each subscriber turns the pieces it receives back into
 * lines and records now − that time. Lines produced before every subscriber was live are not counted.
 */
async function measure(
  client: ImapferryClient,
  ctx: ServiceContext,
  server: ApiProcess,
  jobId: number,
  subscribers: number,
  seconds: number,
): Promise<Run> {
  const stop = new AbortController();
  const latencies: number[] = [];
  /** Each measured delivery: its line and when the subscriber had it. */
  const delivered: { seq: number; at: number }[] = [];
  /** When the NOTIFY of the chunk holding each line arrived: the API's part starts there. */
  const appendedAt: number[] = [];
  let live = 0;
  let countFromSeq = Number.POSITIVE_INFINITY;
  let seq = 0;
  let markAllLive = () => {};
  const allLive = new Promise<void>((resolve) => (markAllLive = resolve));
  const followers = Array.from({ length: subscribers }, async () => {
    let first = true;
    let rest = "";
    try {
      for await (const piece of client.followLogs(jobId, {
        fromOffset: await currentEnd(ctx, jobId),
        signal: stop.signal,
      })) {
        const now = performance.now();
        if (first) {
          first = false;
          if (++live === subscribers) {
            countFromSeq = seq + 1;
            markAllLive();
          }
        }
        const lines = (rest + piece).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) {
          const match = /^line (\d+) t=([\d.]+)/.exec(line);
          const lineSeq = Number(match?.[1]);
          if (match && lineSeq >= countFromSeq) {
            latencies.push(now - Number(match[2]));
            delivered.push({ seq: lineSeq, at: now });
          }
        }
      }
    } catch (e: unknown) {
      if (!stop.signal.aborted) throw e;
    }
  });
  // The engine prints a line every LINE_INTERVAL_MS into the worker's own log writer, which stores
  // (and NOTIFYs) it in chunks. A listener here, like the API server's own, notes when each chunk's
  // NOTIFY arrives: from then on the delivery is the API's part.
  let peakRss = 0;
  let serverCpuShare = Number.NaN;
  let deliveriesPerSecond = Number.NaN;
  let chunksStored = 0;
  /** lineEnds[seq]: the log's byte offset just after line `seq`. */
  const lineEnds: number[] = [];
  let written = await currentEnd(ctx, jobId);
  let stampedUpTo = 0;
  const hub = createEventHub(ctx.pool, { log: ctx.log });
  const unsubscribe = hub.subscribe(CHANNELS.log, function onStored(event) {
    if (event.jobId !== jobId) return;
    const at = performance.now();
    chunksStored++;
    const end = event.offset + event.bytes;
    while (stampedUpTo < seq && (lineEnds[stampedUpTo + 1] ?? Number.POSITIVE_INFINITY) <= end) {
      appendedAt[++stampedUpTo] = at;
    }
  });
  await unsubscribe.ready;
  const writer = createLogWriter({ db: ctx.db, jobId });
  const produce = setInterval(() => {
    seq++;
    const text = `line ${seq} t=${performance.now().toFixed(3)} msg INBOX/${seq} {4242} copied to INBOX/${seq} 12.3 msgs/s\n`;
    written += Buffer.byteLength(text);
    lineEnds[seq] = written;
    writer.write(text);
  }, LINE_INTERVAL_MS);
  const sampleRss = setInterval(() => {
    server.rssBytes().then(
      (rss) => (peakRss = Math.max(peakRss, rss)),
      () => {},
    );
  }, 250);
  try {
    await allLive;
    const cpuBefore = await server.cpuMs();
    const chunksBefore = chunksStored;
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const elapsed = performance.now() - started;
    serverCpuShare = ((await server.cpuMs()) - cpuBefore) / elapsed;
    deliveriesPerSecond = (subscribers * (chunksStored - chunksBefore)) / (elapsed / 1000);
  } finally {
    clearInterval(produce);
    await writer.close();
    // Let the last chunk arrive before stopping the followers.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    clearInterval(sampleRss);
    stop.abort();
    await Promise.allSettled(followers);
    unsubscribe();
    await hub.close();
  }
  return {
    latencies: latencies.sort((a, b) => a - b),
    // Computed at the end: a subscriber can have a chunk before this process's own listener has its
    // NOTIFY (a figure just below 0 then).
    fromStored: delivered
      .filter((d) => appendedAt[d.seq] !== undefined)
      .map((d) => d.at - (appendedAt[d.seq] as number))
      .sort((a, b) => a - b),
    peakRss,
    serverCpuShare,
    deliveriesPerSecond,
  };
}

async function currentEnd(ctx: ServiceContext, jobId: number): Promise<number> {
  const row = await ctx.db
    .selectFrom("jobs")
    .select("log_bytes")
    .where("id", "=", jobId)
    .executeTakeFirstOrThrow();
  return Number(row.log_bytes);
}

export default async function subscribersBench(): Promise<BenchRow[]> {
  const database = await freshBenchDatabase();
  let server: ApiProcess | undefined;
  try {
    const ctx = benchContext(database.handle);
    const token = await benchToken(ctx);
    const imap = await createServer(ctx, { name: "source", host: "imap.source.example" });
    const job = await createJob(ctx, {
      sourceServerId: imap.id,
      sourceEmail: "a@source.example",
      sourcePassword: "pw",
      destServerId: imap.id,
      destEmail: "a@dest.example",
      destPassword: "pw",
    });
    server = await startApiProcess(database.handle.connectionString);
    const client = createClient({ url: server.url, token });
    const idleRss = await server.rssBytes();
    const single = await measure(client, ctx, server, job.id, 1, 5);
    const many = await measure(client, ctx, server, job.id, SUBSCRIBERS, MEASURE_SECONDS);
    const rows: BenchRow[] = [];
    for (const [what, pick] of [
      ["engine line → subscriber", (r: Run) => r.latencies],
      ["stored chunk → subscriber", (r: Run) => r.fromStored],
    ] as const) {
      for (const p of [50, 99]) {
        const figure = percentile(pick(many), p);
        const baseline = percentile(pick(single), p);
        rows.push({
          name: `logs.tail, ${SUBSCRIBERS} subscribers: ${what} p${p}`,
          figure,
          unit: "ms",
          baseline,
          baselineName: "1 subscriber",
          ratio: figure / baseline,
          lowerIsBetter: true,
          ...(p === 99 && what === "engine line → subscriber" ? { target: "p99 < 250 ms" } : {}),
        });
      }
    }
    // Latency on a shared machine depends on who else runs; CPU per delivered chunk does not.
    const perDelivery = (run: Run) => (run.serverCpuShare * 1000) / run.deliveriesPerSecond;
    rows.push({
      name: `logs.tail, ${SUBSCRIBERS} subscribers: API server CPU per delivered chunk`,
      figure: perDelivery(many),
      unit: "ms",
      baseline: perDelivery(single),
      baselineName: "1 subscriber",
      ratio: perDelivery(many) / perDelivery(single),
      lowerIsBetter: true,
    });
    rows.push({
      name: `logs.tail, ${SUBSCRIBERS} subscribers: API server peak RSS`,
      figure: many.peakRss / 1024 / 1024,
      unit: "MB",
      baseline: idleRss / 1024 / 1024,
      baselineName: "idle server",
      ratio: many.peakRss / idleRss,
      lowerIsBetter: true,
      target: "RSS < 250 MB",
    });
    process.stderr.write(
      `bench: subscribers: ${many.latencies.length} deliveries measured (${single.latencies.length} with 1 subscriber); ` +
        `server used ${(many.serverCpuShare * 100).toFixed(0)}% of a core; load average ${loadavg()[0]?.toFixed(1)}\n`,
    );
    return rows;
  } finally {
    await server?.stop();
    await database.drop();
  }
}
