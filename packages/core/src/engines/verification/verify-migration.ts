import type { FolderVerification, MissingMessage, Verification } from "@imapferry/db";
import type { ImapFlow } from "imapflow";
import { openSide } from "../builtin/connect-side.ts";
import { CopiesByIdentity, takeCopy } from "../builtin/copies-by-identity.ts";
import type { FolderPlan } from "../builtin/folder-plan.ts";
import { listFolders, planFolders } from "../builtin/folder-plan.ts";
import type { ScannedMessage } from "../builtin/mailbox-scan.ts";
import {
  identifyMessages,
  scanMailbox,
  sharedHeaderKeys,
  UIDS_PER_FETCH,
  uidSets,
} from "../builtin/mailbox-scan.ts";
import type { SyncArgs } from "../builtin/sync-args.ts";
import { parseSyncArgs } from "../builtin/sync-args.ts";
import { buildImapsyncArgs } from "../imapsync/args.ts";
import type { EngineKind, MigrationSpec } from "../types.ts";
import type { FolderProofs, FolderStamp } from "./folder-proof.ts";
import { folderStamp, sameStamp } from "./folder-proof.ts";
import type { CopyLedgers } from "./ledger-check.ts";
import { checkByLedger } from "./ledger-check.ts";
import { missingReason, refusalsFromErrors } from "./missing-reason.ts";

/** Missing messages listed per folder; the count is always exact. */
export const MISSING_SAMPLE_SIZE = 50;

export interface VerifyMigrationInput {
  spec: MigrationSpec;
  /** Which engine ran: imapsync gets --addheader by default, which changes what its copies look like. */
  engine: EngineKind;
  /** The engine's error lines, to say why a message is missing ("refused by the destination: …"). */
  errorLines?: string[];
  signal?: AbortSignal;
  /**
   * Proofs of earlier checks (see folder-proof.ts): a folder pair neither side of which changed since
   * a check found it complete is not read again, and a folder found complete now leaves a proof.
   */
  proofs?: FolderProofs;
  /**
   * The built-in engine's folder states after the run (see ledger-check.ts): a folder whose every
   * source message has its copy in them, still on the destination, is not read message by message.
   */
  ledgers?: CopyLedgers;
  /**
   * Only these source folders (as the source names them), the rest left out of the result: for
   * checking the folders an engine has finished while it copies the others (see folder-prechecks.ts).
   */
  folders?: ReadonlySet<string>;
  /** At most this many connection pairs. @defaultValue one per copy lane (half the connections per account) */
  connectionPairs?: number;
}

export class VerificationFailed extends Error {
  override readonly name = "VerificationFailed";
}

/**
 * The check after a real run, from imapferry's own IMAP code whatever engine ran: per folder in
 * scope, messages and bytes on each side (STATUS MESSAGES SIZE where the server has STATUS=SIZE,
 * else the FETCHed RFC822.SIZEs) and which source messages have no copy on the destination, matched
 * as the built-in engine matches (identity and count). Read-only on both servers (EXAMINE, PEEK).
 * Throws VerificationFailed when a server cannot be reached or read.
 */
export async function verifyMigration(input: VerifyMigrationInput): Promise<Verification> {
  const session = await openCheckSession(input);
  try {
    return await session.check(input);
  } finally {
    await session.close();
  }
}

/** What one check of an open session looks at (see VerifyMigrationInput). */
export type FolderCheckInput = Omit<VerifyMigrationInput, "spec" | "engine" | "connectionPairs">;

/**
 * Checks on connections kept open between them: the checks of the folders an engine has finished,
 * one after another while it runs, log in once rather than once per folder.
 */
export interface CheckSession {
  check(input: FolderCheckInput): Promise<Verification>;
  close(): Promise<void>;
}

export async function openCheckSession(
  input: Pick<VerifyMigrationInput, "spec" | "engine" | "connectionPairs">,
): Promise<CheckSession> {
  const args = parseSyncArgs(buildImapsyncArgs({ ...input.spec, dryRun: false }, input.engine));
  // As many folders at once as the copy (a pair per lane; see the engine's laneCount): against a
  // distant server the check waits on round trips, which reading folders side by side overlaps. The
  // pairs log in at once, and a server that refuses one more login leaves the check with the pairs
  // it has.
  const perAccount = input.spec.maxConnections ?? args.connections;
  const pairCount = Math.min(input.connectionPairs ?? Number.POSITIVE_INFINITY, Math.floor(perAccount / 2));
  const opened = await Promise.all(
    Array.from({ length: Math.max(1, pairCount) }, () => openPair(input.spec, args)),
  ).catch((e: unknown) => {
    throw new VerificationFailed(`could not check the result: ${e instanceof Error ? e.message : String(e)}`);
  });
  const pairs = opened.filter((pair): pair is ConnectionPair => typeof pair !== "string");
  async function close(): Promise<void> {
    const clients = pairs.flatMap((pair) => [pair.source, pair.destination]);
    await Promise.all(clients.map((client) => client.logout().catch(() => client.close())));
  }
  if (pairs.length === 0) throw new VerificationFailed(opened[0] as string);
  return {
    async check(checkInput) {
      try {
        return await checkInSession({ ...checkInput, engine: input.engine }, args, pairs);
      } catch (e: unknown) {
        if (e instanceof VerificationFailed) throw e;
        throw new VerificationFailed(
          `could not check the result: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    },
    close,
  };
}

async function checkInSession(
  input: FolderCheckInput & Pick<VerifyMigrationInput, "engine">,
  args: SyncArgs,
  pairs: ConnectionPair[],
): Promise<Verification> {
  const started = performance.now();
  const first = pairs[0] as ConnectionPair;
  const [sourceListing, destinationListing] = await Promise.all([
    // The source's message counts, to read the biggest folders first, only where they come with the
    // LIST itself: elsewhere they would cost a STATUS per folder before the check reads any.
    listFolders(first.source, hasListStatus(first.source)),
    listFolders(first.destination, false),
  ]);
  const planned = planFolders(args, sourceListing, destinationListing).plans;
  const plans = input.folders ? planned.filter((plan) => input.folders?.has(plan.source.path)) : planned;
  const destinationPaths = new Set(
    destinationListing.folders.filter((folder) => folder.selectable).map((folder) => folder.path),
  );
  const refusals = refusalsFromErrors(input.errorLines ?? []);
  // Age limits move messages in and out of scope as time passes: a proof would not hold.
  const proofs = args.maxAgeDays === undefined && args.minAgeDays === undefined ? input.proofs : undefined;
  const key = JSON.stringify([
    input.engine,
    args.skipSize,
    args.addHeader,
    args.maxSize ?? null,
    args.minSize ?? null,
  ]);
  const folders: CheckedFolder[] = new Array(plans.length);
  let unchangedFolders = 0;
  const tally = { byCopies: 0 };
  // Biggest first, so that no pair is left reading a big folder after the others are done; the
  // results stay in plan order.
  const order = plans
    .map((plan, index) => ({ index, messages: plan.source.messages ?? 0 }))
    .sort((a, b) => b.messages - a.messages)
    .map((entry) => entry.index);
  let next = 0;
  async function checkFolders(pair: ConnectionPair): Promise<void> {
    for (let i = order[next++]; i !== undefined; i = order[next++]) {
      if (input.signal?.aborted) throw new VerificationFailed("the check was stopped");
      const plan = plans[i] as FolderPlan;
      const check: FolderCheck = {
        args,
        plan,
        ...pair,
        destinationPaths,
        refusals,
        engine: input.engine,
        ledgers: input.ledgers,
      };
      const proven = proofs && destinationPaths.has(plan.destinationPath);
      if (!proven) {
        folders[i] = await checkFolder(check, tally);
        continue;
      }
      const before = await stampsOf(check);
      const proof = proofs.lookup(plan.source.path, plan.destinationPath);
      if (
        proof?.key === key &&
        sameStamp(before.source, proof.source) &&
        sameStamp(before.destination, proof.destination)
      ) {
        unchangedFolders += 1;
        folders[i] = { ...proof.result, reasonCounts: {} };
        continue;
      }
      const checked = await checkFolder(check, tally);
      folders[i] = checked;
      if (checked.missing === 0 && before.source && before.destination) {
        // Only a read during which neither folder changed proves what the stamps describe.
        const after = await stampsOf(check);
        if (sameStamp(before.source, after.source) && sameStamp(before.destination, after.destination)) {
          const { reasonCounts: _counts, ...result } = checked;
          proofs.record({ key, source: before.source, destination: before.destination, result });
        }
      }
    }
  }
  await Promise.all(pairs.map(checkFolders));
  const reasons: Record<string, number> = {};
  for (const folder of folders) {
    for (const [reason, count] of Object.entries(folder.reasonCounts)) {
      reasons[reason] = (reasons[reason] ?? 0) + count;
    }
  }
  const plain = folders.map(({ reasonCounts: _counts, ...folder }) => folder);
  return {
    checkedAt: new Date().toISOString(),
    folders: plain,
    sourceMessages: sum(plain, "sourceMessages"),
    sourceBytes: sum(plain, "sourceBytes"),
    destMessages: sum(plain, "destMessages"),
    destBytes: sum(plain, "destBytes"),
    missing: sum(plain, "missing"),
    reasons,
    ...(proofs ? { unchangedFolders } : {}),
    ...(input.ledgers ? { provenByCopies: tally.byCopies } : {}),
    durationMs: Math.round(performance.now() - started),
  };
}

function hasListStatus(client: ImapFlow): boolean {
  return client.capabilities.has("LIST-STATUS") || client.capabilities.has("IMAP4rev2");
}

interface ConnectionPair {
  source: ImapFlow;
  destination: ImapFlow;
}

/** A source and a destination connection, or the sentence saying which could not log in. */
async function openPair(spec: MigrationSpec, args: SyncArgs): Promise<ConnectionPair | string> {
  const [source, destination] = await Promise.all([
    openSide(1, args.host1, spec.source.password),
    openSide(2, args.host2, spec.destination.password),
  ]);
  if (source.ok && destination.ok) return { source: source.client, destination: destination.client };
  if (source.ok) source.client.close();
  if (destination.ok) destination.client.close();
  const failed = !source.ok ? source : destination;
  return `could not log in to the ${!source.ok ? "source" : "destination"} to check the result: ${failed.ok ? "" : failed.error}`;
}

async function stampsOf(
  check: FolderCheck,
): Promise<{ source: FolderStamp | undefined; destination: FolderStamp | undefined }> {
  const [source, destination] = await Promise.all([
    folderStamp(check.source, check.plan.source.path).catch(() => undefined),
    folderStamp(check.destination, check.plan.destinationPath).catch(() => undefined),
  ]);
  return { source, destination };
}

function sum(folders: FolderVerification[], key: keyof FolderVerification): number {
  return folders.reduce((total, folder) => total + Number(folder[key]), 0);
}

interface FolderCheck {
  args: SyncArgs;
  plan: FolderPlan;
  source: ImapFlow;
  destination: ImapFlow;
  destinationPaths: Set<string>;
  refusals: Map<string, string>;
  engine: EngineKind;
  ledgers: CopyLedgers | undefined;
}

interface FolderSide {
  messages: ScannedMessage[];
  count: number;
  bytes: number;
}

/** Reads one side of a folder: its messages (identity headers, size) and its totals. */
async function readFolder(
  client: ImapFlow,
  path: string,
  options: { skipSize: boolean; internalDates: boolean },
): Promise<FolderSide> {
  const mailbox = await client.mailboxOpen(path, { readOnly: true });
  // No flags (the check compares none), dates only under age limits; identities provisional until
  // identifyMessages, as after any scan.
  const messages = await scanMailbox(client, mailbox.exists, options.skipSize, true, {
    flags: false,
    internalDates: options.internalDates,
  });
  let count = messages.length;
  let bytes = messages.reduce((total, message) => total + message.size, 0);
  if (client.capabilities.has("STATUS=SIZE") || client.capabilities.has("IMAP4rev2")) {
    // The server's own figures where it has them; the FETCHed sizes are the fallback.
    const status = await client.status(path, { messages: true, size: true }).catch(() => false as const);
    if (status && status.messages !== undefined) count = status.messages;
    if (status && status.size !== undefined) bytes = status.size;
  }
  return { messages, count, bytes };
}

/**
 * The Subject of each listed missing message, read from the source (still selected) for just these:
 * reading it for every message made every check parse a header no match uses.
 */
async function addSubjects(source: ImapFlow, missing: MissingMessage[]): Promise<void> {
  if (missing.length === 0) return;
  const byUid = new Map(missing.map((message) => [message.uid, message]));
  const sets = uidSets(
    [...byUid.keys()].sort((a, b) => a - b),
    UIDS_PER_FETCH,
  );
  for (const uids of sets) {
    for await (const row of source.fetch(uids, { uid: true, headers: ["subject"] }, { uid: true })) {
      const message = byUid.get(row.uid);
      if (message) message.subject = subjectOf(row.headers);
    }
  }
}

/** The Subject line of a fetched header block, unfolded, or "" when it has none. */
function subjectOf(headers: Buffer | undefined): string {
  const unfolded = (headers ?? Buffer.alloc(0)).toString("utf8").replace(/\r?\n[ \t]+/g, " ");
  const line = unfolded.split(/\r?\n/).find((l) => /^subject\s*:/i.test(l));
  return line ? line.slice(line.indexOf(":") + 1).trim() : "";
}

function withinAge(args: SyncArgs, message: ScannedMessage, now: number): boolean {
  if (message.internalTime === undefined) return true;
  const ageDays = (now - message.internalTime) / 86_400_000;
  if (args.maxAgeDays !== undefined && ageDays > args.maxAgeDays) return false;
  if (args.minAgeDays !== undefined && ageDays < args.minAgeDays) return false;
  return true;
}

type CheckedFolder = FolderVerification & { reasonCounts: Record<string, number> };

/** A folder proven complete by the engine's map where it can be, else read message by message. */
async function checkFolder(check: FolderCheck, tally: { byCopies: number }): Promise<CheckedFolder> {
  const { plan } = check;
  if (check.ledgers && check.destinationPaths.has(plan.destinationPath)) {
    const folder = await checkByLedger({
      args: check.args,
      state: check.ledgers.lookup(plan.source.path, plan.destinationPath),
      source: check.source,
      destination: check.destination,
      sourcePath: plan.source.path,
      destinationPath: plan.destinationPath,
    });
    if (folder) {
      tally.byCopies += 1;
      return { ...folder, reasonCounts: {} };
    }
  }
  return verifyFolder(check);
}

async function verifyFolder(check: FolderCheck): Promise<CheckedFolder> {
  const { args, plan } = check;
  // The two servers are read at the same time: the check costs about one side's reading, not two.
  const [sourceSide, destinationSide] = await Promise.all([
    readFolder(check.source, plan.source.path, {
      skipSize: args.skipSize,
      // Only the age limits look at INTERNALDATE, and only on the source.
      internalDates: args.maxAgeDays !== undefined || args.minAgeDays !== undefined,
    }),
    check.destinationPaths.has(plan.destinationPath)
      ? readFolder(check.destination, plan.destinationPath, { skipSize: args.skipSize, internalDates: false })
      : undefined,
  ]);
  const shared = sharedHeaderKeys(sourceSide.messages);
  await Promise.all([
    identifyMessages(check.source, sourceSide.messages, shared, args.skipSize),
    destinationSide
      ? identifyMessages(check.destination, destinationSide.messages, shared, args.skipSize)
      : undefined,
  ]);
  const copies = new CopiesByIdentity(destinationSide?.messages ?? []);
  const now = Date.now();
  const missing: MissingMessage[] = [];
  const reasonCounts: Record<string, number> = {};
  let missingCount = 0;
  // --justfolders copies no message on purpose; age limits take messages out of scope.
  const inScope = args.justFolders ? [] : sourceSide.messages.filter((m) => withinAge(args, m, now));
  for (const message of inScope) {
    if (takeCopy(copies, message, args.addHeader, args.skipSize)) continue;
    const { group, detail } = missingReason({
      message,
      args,
      engine: check.engine,
      folderExists: destinationSide !== undefined,
      refusal: check.refusals.get(`${plan.source.wireName}/${message.uid}`),
    });
    missingCount += 1;
    reasonCounts[group] = (reasonCounts[group] ?? 0) + 1;
    if (missing.length < MISSING_SAMPLE_SIZE) {
      missing.push({ uid: message.uid, subject: "", size: message.size, reason: detail });
    }
  }
  await addSubjects(check.source, missing);
  return {
    folder: plan.source.path,
    destinationFolder: plan.destinationPath,
    sourceMessages: sourceSide.count,
    sourceBytes: sourceSide.bytes,
    destMessages: destinationSide?.count ?? 0,
    destBytes: destinationSide?.bytes ?? 0,
    missing: missingCount,
    missingSample: missing,
    reasonCounts,
  };
}
