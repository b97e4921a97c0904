import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { EngineStateChannel, MigrationSpec } from "@imapferry/core";
import { buildImapsyncArgs, engineEnv, FolderStates, runEngine } from "@imapferry/core";
import type { ImapPair } from "../packages/testkit/src/index.ts";
import { generateLargeMailbox, startImapPair } from "../packages/testkit/src/index.ts";
import { benchSpec, messageCount, runTimed } from "./engine.bench.ts";
import type { BenchRow } from "./types.ts";

/*
 * A delta pass (the rerun or scheduled pass of a mailbox already copied) over one folder of 100,000
 * small messages: the built-in engine with the incremental sync state its first copy left, against
 * the real imapsync, which has no state and reads every message's headers on both sides each time.
 * Two cases: nothing changed, and 1 % (1,000) new messages on the source. Both engines work on the
 * same source and destination mailboxes. (Expunging the copies to pass again from the same start would
 * measure Dovecot rewriting its Maildir index after expunges, not the engines.)
 */
const MESSAGES = 100_000;
const NEW_MESSAGES = 1_000;
const RUNS = 3;
const CLI = fileURLToPath(new URL("../packages/core/dist/engine/imapferry-sync.mjs", import.meta.url));
const PASSWORD = "bench-Password-1";
const IMAPSYNC_BIN = process.env.IMAPSYNC_BIN;

/** The folder states the worker would keep in the database, kept in memory. */
function stateStore() {
  const states = new FolderStates();
  return {
    channel(): EngineStateChannel {
      return { initial: JSON.stringify(states.all()), onUpdate: (update) => states.apply(update) };
    },
  };
}

/** The built-in engine as the worker runs it, state channel included; wall time to its exit. */
async function runBuiltinWithState(
  spec: MigrationSpec,
  channel: EngineStateChannel,
): Promise<{ seconds: number; code: number | null; output: string }> {
  const lines: string[] = [];
  const started = performance.now();
  const result = await runEngine({
    bin: process.execPath,
    args: [CLI, ...buildImapsyncArgs(spec, "builtin"), "--statefd", "3"],
    env: engineEnv(spec),
    mailboxes: { source: { user: spec.source.user }, destination: { user: spec.destination.user } },
    onLine: (line) => lines.push(line),
    stateChannel: channel,
  });
  return { seconds: (performance.now() - started) / 1000, code: result.exitCode, output: lines.join("\n") };
}

/** 1,000 new messages in the source INBOX (written into its Maildir, indexed by Dovecot), as mail arriving between passes. */
async function addNewMail(pair: ImapPair, user: string, batch: number): Promise<void> {
  const mail = generateLargeMailbox({
    messages: NEW_MESSAGES,
    folders: 1,
    averageSize: 2_500,
    maxSize: 64 * 1024,
    seed: 100 + batch,
  });
  await pair.source.seedMaildir(user, mail);
}

async function expectMessages(pair: ImapPair, user: string, expected: number, why: string): Promise<void> {
  const found = await messageCount(pair.destination, user);
  if (found !== expected) throw new Error(`${why}: ${found} of ${expected} messages on the destination`);
}

function failIf(what: string, run: { code: number | null; output: string }): void {
  if (run.code !== 0) throw new Error(`${what} exited ${run.code}:\n${run.output.slice(-3000)}`);
}

function row(name: string, builtin: number, imapsync: number | undefined, target: string): BenchRow {
  return imapsync === undefined
    ? {
        name,
        figure: builtin,
        unit: "s",
        baseline: null,
        baselineName: "imapsync not run: IMAPSYNC_BIN is not set",
        ratio: null,
        target,
        lowerIsBetter: true,
      }
    : {
        name,
        figure: builtin,
        unit: "s",
        baseline: imapsync,
        baselineName: "the real imapsync, same mailboxes, same run",
        // How many times faster the built-in pass is.
        ratio: imapsync / builtin,
        target,
      };
}

export default async function deltaBench(): Promise<BenchRow[]> {
  if (!existsSync(CLI)) {
    throw new Error(`${CLI} is missing: build first (pnpm --filter @imapferry/core build, or pnpm bench).`);
  }
  const pair = await startImapPair();
  try {
    const user = "delta@example.com";
    await pair.source.addUser(user, PASSWORD);
    await pair.destination.addUser(user, PASSWORD);
    const mailbox = generateLargeMailbox({
      messages: MESSAGES,
      folders: 1,
      averageSize: 2_500,
      maxSize: 64 * 1024,
      seed: 21,
    });
    await pair.source.seedMaildir(user, mailbox);
    const spec = benchSpec(pair, user, user);
    const state = stateStore();
    process.stderr.write(
      `bench: delta: ${MESSAGES} messages seeded; first copy with the built-in engine …\n`,
    );
    const first = await runBuiltinWithState(spec, state.channel());
    failIf("imapferry-sync (first copy)", first);
    if ((await messageCount(pair.destination, user)) !== MESSAGES)
      throw new Error("the first copy is incomplete");
    process.stderr.write(`bench: delta: first copy ${first.seconds.toFixed(1)} s\n`);

    let unchanged = Number.POSITIVE_INFINITY;
    for (let run = 1; run <= RUNS; run++) {
      const pass = await runBuiltinWithState(spec, state.channel());
      failIf("imapferry-sync (unchanged)", pass);
      if (!pass.output.includes("unchanged since the last pass"))
        throw new Error("the delta pass did not use the state");
      unchanged = Math.min(unchanged, pass.seconds);
      process.stderr.write(`bench: delta: unchanged, built-in run ${run}: ${pass.seconds.toFixed(2)} s\n`);
    }
    let imapsyncUnchanged: number | undefined;
    if (IMAPSYNC_BIN) {
      const pass = await runTimed(IMAPSYNC_BIN, buildImapsyncArgs(spec), engineEnv(spec));
      failIf("imapsync (unchanged)", pass);
      imapsyncUnchanged = pass.seconds;
      process.stderr.write(`bench: delta: unchanged, imapsync: ${pass.seconds.toFixed(1)} s\n`);
    }

    // Each 1 % pass gets mail of its own (a new batch of 1,000), so every pass copies into the mailbox as
    // it grew, as scheduled passes do. imapsync goes first (101,000 messages); the built-in engine then
    // catches up on imapsync's copies without measuring, and its measured passes meet a slightly bigger
    // mailbox (102,000–104,000) than imapsync did.
    let imapsyncNew: number | undefined;
    let batch = 0;
    if (IMAPSYNC_BIN) {
      await addNewMail(pair, user, ++batch);
      const pass = await runTimed(IMAPSYNC_BIN, buildImapsyncArgs(spec), engineEnv(spec));
      failIf("imapsync (1 % new)", pass);
      await expectMessages(pair, user, MESSAGES + batch * NEW_MESSAGES, "imapsync did not copy the new mail");
      imapsyncNew = pass.seconds;
      process.stderr.write(`bench: delta: 1 % new, imapsync: ${pass.seconds.toFixed(1)} s\n`);
      failIf("imapferry-sync (after imapsync)", await runBuiltinWithState(spec, state.channel()));
    }
    let withNew = Number.POSITIVE_INFINITY;
    for (let run = 1; run <= RUNS; run++) {
      await addNewMail(pair, user, ++batch);
      const pass = await runBuiltinWithState(spec, state.channel());
      failIf("imapferry-sync (1 % new)", pass);
      if (pass.output.includes("compared in full")) {
        throw new Error(`the delta pass fell back:\n${pass.output.slice(-3000)}`);
      }
      await expectMessages(
        pair,
        user,
        MESSAGES + batch * NEW_MESSAGES,
        "the delta pass left the destination incomplete",
      );
      withNew = Math.min(withNew, pass.seconds);
      process.stderr.write(`bench: delta: 1 % new, built-in run ${run}: ${pass.seconds.toFixed(2)} s\n`);
    }
    return [
      row(
        "delta pass, 100,000 unchanged messages: built-in engine",
        unchanged,
        imapsyncUnchanged,
        "ratio ≥ 20 and < 2 s",
      ),
      row("delta pass, 100,000 messages + 1 % new: built-in engine", withNew, imapsyncNew, "ratio ≥ 10"),
    ];
  } finally {
    await pair.stop();
  }
}
