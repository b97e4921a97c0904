import { freemem, hostname, totalmem } from "node:os";
import type { ImapFlow } from "imapflow";
import { AppendConnection } from "./append-connection.ts";
import { canMultiAppend } from "./append-messages.ts";
import type { OpenResult } from "./connect-side.ts";
import { connectingLine, openSide } from "./connect-side.ts";
import { recordFolderState } from "./copy-ledger.ts";
import { SELECT_CUT_SHORT } from "./examine-folder.ts";
import type { SyncExitCode } from "./exit-codes.ts";
import { exitCodeName, SYNC_EXIT } from "./exit-codes.ts";
import { groupByDestination, laneCount, openLane, runLanes } from "./folder-lanes.ts";
import { startFolderPass } from "./folder-pass.ts";
import type { FolderPlan } from "./folder-plan.ts";
import { listFolders, planFolders } from "./folder-plan.ts";
import type { FolderSyncContext } from "./folder-sync-context.ts";
import { folderLabel, formatEta, formatFolderLine, formatLongDate } from "./output-format.ts";
import type { SyncArgs } from "./sync-args.ts";
import { ensureDestinationFolder, syncFolder } from "./sync-folder.ts";
import type { SyncErrorCategory, SyncIo } from "./sync-session.ts";
import { ErrorsMaxReached, SyncSession } from "./sync-session.ts";
import { stateApplies } from "./sync-state.ts";
import { retryLeft, spendRetry, waitBeforeReconnect } from "./throttle-waits.ts";

export const ENGINE_NAME = "imapferry-sync";
/** How often idle connections get a NOOP (servers log out clients idle for 30 minutes). */
const KEEPALIVE_MS = 4 * 60_000;
export const ENGINE_VERSION = "0.1.0";

function writeExitLine(session: SyncSession, code: SyncExitCode): void {
  session.write(
    `Exiting with return value ${code} (${exitCodeName(code)}) ${session.errors.length}/${session.args.errorsMax} nb_errors/max_errors PID ${session.io.pid ?? process.pid}`,
  );
}

function writeBanner(session: SyncSession): void {
  const free = (freemem() / 1024 ** 3).toFixed(1);
  const total = (totalmem() / 1024 ** 3).toFixed(1);
  session.write(
    `Here is ${ENGINE_NAME} ${ENGINE_VERSION} (imapsync 2.229 compatible output) on host ${hostname()}, a ${process.platform} system with ${free}/${total} free GiB of RAM`,
  );
  session.write(`with Node.js ${process.version}`);
  session.write(`Transfer started at ${formatLongDate(session.startedAt)}`);
  session.write(`PID is ${session.io.pid ?? process.pid} my PPID is ${session.io.ppid ?? process.ppid}`);
  session.write("Command line used:");
  session.write(`${ENGINE_NAME} ${session.args.commandLine.join(" ")}`);
  session.write("Passwords are read from IMAPSYNC_PASSWORD1 and IMAPSYNC_PASSWORD2.");
}

const OPEN_FAILURE_CATEGORY: Record<1 | 2, Record<"connect" | "auth" | "tls", SyncErrorCategory>> = {
  1: {
    connect: "ERR_CONNECTION_FAILURE_HOST1",
    auth: "ERR_AUTHENTICATION_FAILURE_USER1",
    tls: "ERR_TLS_FAILURE",
  },
  2: {
    connect: "ERR_CONNECTION_FAILURE_HOST2",
    auth: "ERR_AUTHENTICATION_FAILURE_USER2",
    tls: "ERR_TLS_FAILURE",
  },
};

/**
 * Which exit code a failed login gets. imapsync reports authentication before connection
 * failures (see connfail.log: host1 refused + host2 bad password exits 162), source first.
 */
function loginExitCode(first: OpenResult, second: OpenResult): SyncExitCode {
  const failed = (result: OpenResult, kind: "connect" | "auth" | "tls") => !result.ok && result.kind === kind;
  if (failed(first, "auth")) return SYNC_EXIT.authenticationFailureUser1;
  if (failed(second, "auth")) return SYNC_EXIT.authenticationFailureUser2;
  if (failed(first, "tls") || failed(second, "tls")) return SYNC_EXIT.tlsFailure;
  if (failed(first, "connect")) return SYNC_EXIT.connectionFailureHost1;
  return SYNC_EXIT.connectionFailureHost2;
}

async function closeClient(client: ImapFlow | undefined, polite: boolean): Promise<void> {
  if (!client) {
    return;
  }
  if (polite) {
    // LOGOUT queues behind any command still running, so it gets a short deadline.
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
    await Promise.race([client.logout().catch(() => undefined), deadline]);
  }
  client.close();
}

function writeSignalLines(session: SyncSession, signalName: string): void {
  const pid = session.io.pid ?? process.pid;
  const ppid = session.io.ppid ?? process.ppid;
  const name = signalName.replace(/^SIG/, "");
  session.write(
    `Ended by a signal ${name} (my PID is ${pid} my PPID is ${ppid}). I am asked to terminate immediately.`,
  );
  session.write("You should resynchronize those accounts by running a sync again,");
  session.write("since some messages and entire folders might still be missing on host2.");
}

function abortedPromise(signal: AbortSignal | undefined): Promise<"aborted"> {
  return new Promise<"aborted">((resolve) => {
    if (signal?.aborted) {
      resolve("aborted");
    } else {
      signal?.addEventListener("abort", () => resolve("aborted"), { once: true });
    }
  });
}

function signalName(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  return typeof reason === "string" ? reason : "TERM";
}

/**
 * Runs one imapferry-sync migration and returns the exit code, printing imapsync-shaped lines
 * through `io.writeLine`. Never deletes or changes anything on the source: folders are EXAMINEd
 * and messages read with BODY.PEEK.
 */
export async function runSync(args: SyncArgs, io: SyncIo): Promise<SyncExitCode> {
  const session = new SyncSession(args, io);
  const signal = io.signal;
  function announceSignal(): void {
    session.write("");
    session.write(
      `Got a signal ${signalName(signal).replace(/^SIG/, "")} (my PID is ${io.pid ?? process.pid} my PPID is ${io.ppid ?? process.ppid}). Asked to terminate`,
    );
  }
  signal?.addEventListener("abort", announceSignal, { once: true });

  let source: ImapFlow | undefined;
  let destination: ImapFlow | undefined;
  let appender: AppendConnection | undefined;
  let liveClients: ReconnectingContext[] = [];
  let keepAlive: NodeJS.Timeout | undefined;
  try {
    writeBanner(session);
    if (args.dry) {
      session.write("Info: --dry mode: nothing will be created or copied on host2.");
    }
    session.write(
      `Host1: IMAP server [${args.host1.host}] port [${args.host1.port}] user [${args.host1.user}]`,
    );
    session.write(
      `Host2: IMAP server [${args.host2.host}] port [${args.host2.port}] user [${args.host2.user}]`,
    );
    session.write(connectingLine(1, args.host1));
    session.write(connectingLine(2, args.host2));
    const opening = Promise.all([
      openSide(1, args.host1, io.password1, session),
      openSide(2, args.host2, io.password2, session),
    ]);
    // A stop during login does not wait for a slow server to answer or time out.
    const opened = await Promise.race([opening, abortedPromise(signal)]);
    if (opened === "aborted") {
      void opening.then(function closeLateClients(results) {
        for (const result of results) {
          if (result.ok) result.client.close();
        }
      });
      return finish(session);
    }
    const [first, second] = opened;
    for (const line of [...first.lines, ...second.lines]) {
      session.write(line);
    }
    if (first.ok) source = first.client;
    if (second.ok) destination = second.client;
    if (!first.ok || !second.ok) {
      for (const [side, result] of [
        [1, first],
        [2, second],
      ] as const) {
        if (!result.ok) {
          session.errors.push({ category: OPEN_FAILURE_CATEGORY[side][result.kind], text: result.error });
        }
      }
      const code = loginExitCode(first, second);
      const authUser =
        code === SYNC_EXIT.authenticationFailureUser1
          ? args.host1.user
          : code === SYNC_EXIT.authenticationFailureUser2
            ? args.host2.user
            : undefined;
      session.writeErrorListing(authUser ? `Check the credentials for ${authUser}.` : undefined);
      writeExitLine(session, code);
      return code;
    }
    if (!source || !destination) {
      throw new Error("login succeeded without a client");
    }
    session.write("Host1: state Authenticated");
    session.write("Host2: state Authenticated");
    if (args.justLogin) {
      session.write("Exiting because of --justlogin");
      writeExitLine(session, SYNC_EXIT.ok);
      return SYNC_EXIT.ok;
    }

    const multiAppend = canMultiAppend(destination);
    // The append connection logs in while the folders are listed.
    // A cap of one connection per account (--connections 1) leaves no room for a second destination one.
    const appenderFits = args.connections >= 2;
    const appending =
      !args.dry &&
      appenderFits &&
      destination.capabilities.has("LITERAL+") &&
      destination.capabilities.has("MULTIAPPEND")
        ? AppendConnection.open(args.host2, io.password2).catch(function noAppender(e: unknown) {
            const reason = e instanceof Error ? e.message.split("\n")[0] : String(e);
            session.write(
              `Host2: no pipelined append connection (${reason}); appending through the main connection`,
            );
            return undefined;
          })
        : Promise.resolve(undefined);
    const [sourceListing, destinationListing, openedAppender] = await Promise.all([
      listFolders(source, true),
      listFolders(destination, false),
      appending,
    ]);
    appender = openedAppender;
    session.write(
      appender
        ? "Host2: LITERAL+ and MULTIAPPEND in CAPABILITY: messages are appended in pipelined batches"
        : multiAppend
          ? "Host2: MULTIAPPEND in CAPABILITY: messages are appended in batches"
          : "Host2: no MULTIAPPEND in CAPABILITY: messages are appended one by one",
    );
    session.write(`Host1: found ${sourceListing.folders.length} folders.`);
    session.write(`Host2: found ${destinationListing.folders.length} folders.`);
    session.write(
      `Host1: separator and prefix: [${sourceListing.namespace.delimiter}][${sourceListing.namespace.prefix}]`,
    );
    session.write(
      `Host2: separator and prefix: [${destinationListing.namespace.delimiter}][${destinationListing.namespace.prefix}]`,
    );
    const { plans, missing } = planFolders(args, sourceListing, destinationListing);
    for (const name of missing) {
      session.error("ERR_FOLDER_MISSING", `Host1: folder [${name}] does not exist`);
    }

    // Totals for the ETA lines come from LIST-STATUS (or STATUS), cheap where imapsync needs
    // --foldersizes.
    for (const plan of plans) {
      session.counters.total += plan.source.messages ?? 0;
    }
    session.counters.foldersTotal = plans.length;

    const ctx: ReconnectingContext = {
      session,
      source,
      destination,
      destinationPaths: new Set(destinationListing.folders.map((folder) => folder.path)),
      subscribedPaths: new Set(
        destinationListing.folders.filter((folder) => folder.subscribed).map((folder) => folder.path),
      ),
      destinationDelimiter: destinationListing.namespace.delimiter,
      sourcePassword: io.password1,
      multiAppend,
      appender,
      wouldCopy: new Map(),
    };
    const groups = groupByDestination(plans, ctx.destinationDelimiter);
    const lanes: ReconnectingContext[] = [ctx];
    liveClients = lanes;
    const wanted = laneCount(args, groups.length, appender !== undefined);
    if (wanted > 1) {
      const opened = await Promise.all(
        Array.from({ length: wanted - 1 }, () =>
          openLane(
            args,
            { source: io.password1, destination: io.password2 },
            appender !== undefined,
            session,
          ),
        ),
      );
      for (const lane of opened) {
        if (typeof lane === "string") {
          session.write(`Host1/Host2: one connection set fewer for parallel folders: ${lane}`);
        } else {
          lanes.push({ ...ctx, ...lane });
        }
      }
      session.write(
        `Copying up to ${lanes.length} folders at once, over ${lanes.length} connection sets (--connections ${args.connections})`,
      );
    }
    keepAlive = setInterval(function keepDestinationAlive() {
      // While the append connection does the copying, the main destination connection sits
      // idle for as long as a folder takes; a NOOP now and then keeps servers from logging it out.
      for (const lane of lanes) {
        lane.destination.noop().catch(() => undefined);
        lane.appender?.noop().catch(() => undefined);
      }
    }, KEEPALIVE_MS);
    keepAlive.unref();
    session.write(`++++ Looping on each one of ${plans.length} folders to sync`);
    await runLanes(
      lanes,
      groups,
      async function syncPlannedFolder(lane, { plan, index }) {
        session.write(
          formatEta({
            now: new Date(),
            elapsedSeconds: session.elapsedSeconds(),
            processed: session.counters.processed,
            total: session.counters.total,
          }),
        );
        if (args.justFolders) {
          session.write(
            formatFolderLine(
              index,
              plans.length,
              folderLabel(plan.source.wireName, plan.source.path),
              folderLabel(plan.destinationWireName, plan.destinationPath),
            ),
          );
          await ensureDestinationFolder(lane, plan);
          session.counters.foldersSynced += 1;
          return;
        }
        await syncFolderWithReconnect(lane, plan, index, plans.length, io);
        if (!session.stopping) {
          session.counters.foldersSynced += 1;
        }
      },
      () => session.stopping || session.halt !== undefined,
    );
    if (!session.stopping) {
      session.write("++++ End looping on each folder");
    }
    return finish(session);
  } catch (e: unknown) {
    if (e instanceof ErrorsMaxReached) {
      session.write(
        `Maximum number of errors ${args.errorsMax} reached ( you can change --errorsmax ${args.errorsMax} ). Exiting.`,
      );
      session.writeStatistics();
      session.writeErrorListing();
      writeExitLine(session, SYNC_EXIT.withErrorsMax);
      return SYNC_EXIT.withErrorsMax;
    }
    if (session.stopping || e instanceof ConnectionLost) {
      return finish(session);
    }
    const message = e instanceof Error ? e.message.split("\n")[0] : String(e);
    session.errors.push({ category: "ERR_OTHER", text: `Unexpected failure: ${message}` });
    session.write(`Unexpected failure: ${message}`);
    session.writeStatistics();
    session.writeErrorListing();
    writeExitLine(session, SYNC_EXIT.withErrors);
    return SYNC_EXIT.withErrors;
  } finally {
    clearInterval(keepAlive);
    signal?.removeEventListener("abort", announceSignal);
    const polite = !session.stopping;
    // The lanes may hold newer clients than these after a reconnection.
    const current: { source?: ImapFlow; destination?: ImapFlow; appender?: AppendConnection }[] =
      liveClients.length > 0 ? liveClients : [{ source, destination, appender }];
    await Promise.all(
      current.flatMap((lane) => [
        closeClient(lane.source, polite),
        closeClient(lane.destination, polite),
        polite ? lane.appender?.logout() : lane.appender?.close(),
      ]),
    );
  }
}

interface ReconnectingContext extends FolderSyncContext {
  sourcePassword: string;
}

/** Whether an imapflow connection still answers; its `usable` flag can lag a cut socket. */
async function answers(client: ImapFlow): Promise<boolean> {
  if (!client.usable) {
    return false;
  }
  try {
    await client.noop();
    return client.usable;
  } catch {
    return false;
  }
}

async function connectionsAlive(ctx: ReconnectingContext): Promise<boolean> {
  const [source, destination] = await Promise.all([answers(ctx.source), answers(ctx.destination)]);
  return source && destination && (ctx.appender === undefined || ctx.appender.usable);
}

/** Where each side's connection, endpoint, password and reconnection counter live. */
const SIDE_PARTS = {
  1: { client: "source", endpoint: "host1", password: "password1", reconnections: "reconnectionsHost1" },
  2: { client: "destination", endpoint: "host2", password: "password2", reconnections: "reconnectionsHost2" },
} as const;

/** Waits between attempts to reopen a dropped connection: about half a minute in all. */
const RECONNECT_DELAYS_MS = [1000, 2000, 4000, 8000, 16_000];

/** Reopens one side's main connection if it stopped answering; false when it cannot be reopened. */
async function reopenIfLost(ctx: ReconnectingContext, side: 1 | 2, io: SyncIo): Promise<boolean> {
  const { session } = ctx;
  const parts = SIDE_PARTS[side];
  if (await answers(ctx[parts.client])) {
    return true;
  }
  const lost = ctx[parts.client];
  lost.close();
  // A reconnection spends a retry once it succeeds; one that fails ends the run, whose own retry
  // (from the queue) covers it. The other lanes' reconnections after the same blip spend none.
  const sameOutage = (session.connectionEpochs.get(lost) ?? 0) < session.outages[side];
  if (!sameOutage) {
    if (!retryLeft(side, session, "reconnecting")) return false;
    // Counted now, before any wait, so lanes finding their connection gone meanwhile join it.
    session.outages[side] += 1;
  }
  // A server that said how long to back off as it hung up (Office 365) is not called back at once:
  // an immediate reconnect is what gets accounts locked.
  if (!(await waitBeforeReconnect(side, session, ctx[parts.client]))) {
    return false;
  }
  const endpoint = session.args[parts.endpoint];
  // A server that restarts or a network that blinks refuses connections for a few seconds: retry
  // with backoff (1, 2, 4, 8 and 16 s) before giving up on the side. A refused login is final.
  let reopened: Awaited<ReturnType<typeof openSide>>;
  for (let attempt = 0; ; attempt++) {
    session.write(connectingLine(side, endpoint));
    reopened = await openSide(side, endpoint, io[parts.password], session);
    for (const line of reopened.lines) {
      session.write(line);
    }
    if (
      reopened.ok ||
      reopened.kind === "auth" ||
      attempt >= RECONNECT_DELAYS_MS.length ||
      session.stopping
    ) {
      break;
    }
    const delay = RECONNECT_DELAYS_MS[attempt] ?? 0;
    session.write(`Host${side}: could not reconnect (${reopened.error}); trying again in ${delay / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  if (!reopened.ok) {
    session.error(OPEN_FAILURE_CATEGORY[side][reopened.kind === "auth" ? "auth" : "connect"], reopened.error);
    return false;
  }
  ctx[parts.client] = reopened.client;
  session.connectionEpochs.set(reopened.client, session.outages[side]);
  session.counters[parts.reconnections] += 1;
  if (!sameOutage) spendRetry(side, session, "reconnected");
  return true;
}

/** Reopens whichever side lost its connection; false when a side cannot be reopened. */
async function ensureConnected(ctx: ReconnectingContext, io: SyncIo): Promise<boolean> {
  if (!(await reopenIfLost(ctx, 1, io)) || !(await reopenIfLost(ctx, 2, io))) {
    return false;
  }
  if (ctx.appender && !ctx.appender.usable) {
    ctx.appender.close();
    ctx.appender = await AppendConnection.open(ctx.session.args.host2, io.password2).catch(() => undefined);
  }
  return true;
}

/**
 * Error texts that mean the connection went away mid-command: a SELECT answered by no mailbox, a
 * FETCH on a connection whose selected folder was reset by the drop, a closed or reset socket.
 */
const LOST_CONNECTION_TEXT = new RegExp(
  [SELECT_CUT_SHORT, "No mailbox is selected", "Connection not available", "ECONNRESET", "EPIPE"].join("|"),
);

/**
 * Passes over one folder that copy nothing before the engine gives up on it: the first, and reruns
 * after reconnecting. A pass that copied messages before its connection dropped does not count: a
 * big folder on a flaky network may take many cuts, each costing only a reconnect, and still finish.
 */
const MAX_FRUITLESS_FOLDER_PASSES = 3;

/**
 * Syncs a folder; if a pass ended with errors because a connection dropped (server restart,
 * network cut), reconnects and syncs the folder again, as imapsync does. A later pass skips what
 * an earlier one copied, and the errors of a pass cut short by the drop are dropped when the
 * folder is then completed.
 */
async function syncFolderWithReconnect(
  ctx: ReconnectingContext,
  plan: FolderPlan,
  index: number,
  total: number,
  io: SyncIo,
): Promise<void> {
  const { session } = ctx;
  const earlier = { messages: 0, bytes: 0 };
  let pass = startFolderPass(session);
  let result: Awaited<ReturnType<typeof syncFolder>>;
  for (let fruitless = 0; ; ) {
    // Other folders are counted meanwhile on other lanes: this folder's figures are its pass's own.
    result = await syncFolder({ ...ctx, session: pass.session }, plan, index, total);
    const failed = pass.errors.length > 0;
    if (pass.tally.transferred === 0) fruitless += 1;
    if (
      !failed ||
      session.stopping ||
      session.halt !== undefined ||
      fruitless >= MAX_FRUITLESS_FOLDER_PASSES
    ) {
      break;
    }
    // Some errors only happen when the connection dropped under the command, even while imapflow's
    // `usable` flag still lags the cut socket: those always take the reconnect path.
    const cutShort = pass.errors.some((error) => LOST_CONNECTION_TEXT.test(error.text));
    if (!cutShort && (await connectionsAlive(ctx))) {
      break;
    }
    session.write(
      `Connection lost while syncing folder [${plan.source.wireName}]: reconnecting and syncing it again`,
    );
    if (!(await ensureConnected(ctx, io))) {
      throw new ConnectionLost();
    }
    // A CREATE cut short by the drop may not have happened even where it seemed to: the next pass
    // creates the folder again (a folder already there answers ALREADYEXISTS, which is fine).
    ctx.destinationPaths.delete(plan.destinationPath);
    earlier.messages += pass.tally.transferred;
    earlier.bytes += pass.tally.bytesTransferred;
    // Start the folder's figures over, keeping what was really copied.
    pass.undo(["transferred", "bytesTransferred", "biggestTransferred"]);
    pass = startFolderPass(session);
  }
  // A later pass counted an earlier pass's copies as "already on host2": they were transferred.
  const c = session.counters;
  c.skipped -= Math.min(earlier.messages, pass.tally.skipped);
  c.bytesSkipped -= Math.min(earlier.bytes, pass.tally.bytesSkipped);
  const channel = io.state;
  if (channel && stateApplies(session.args) && result !== "unchanged") {
    // Only a pass that ended cleanly vouches for the folder: after an error (a refused message, a
    // dropped connection) or a stop, what is not mapped might be missing, so the next pass compares in full.
    const clean = pass.errors.length === 0 && !session.stopping && session.halt === undefined;
    await recordFolderState(ctx, channel, plan, clean ? result : undefined);
  }
}

class ConnectionLost extends Error {
  override readonly name = "ConnectionLost";
}

function finish(session: SyncSession): SyncExitCode {
  session.writeStatistics();
  if (session.stopping) {
    writeSignalLines(session, signalName(session.io.signal));
    session.writeErrorListing();
    writeExitLine(session, SYNC_EXIT.bySignal);
    return SYNC_EXIT.bySignal;
  }
  session.writeErrorListing();
  if (session.halt === SYNC_EXIT.transferExceeded) {
    const transferred = session.counters.bytesTransferred;
    const limit = session.args.exitWhenOver ?? 0;
    session.write(
      transferred >= limit
        ? `Exiting because total bytes transferred ${transferred} reached --exitwhenover ${limit}`
        : `Exiting because the next message would take total bytes transferred ${transferred} past --exitwhenover ${limit}`,
    );
  }
  const code = session.halt ?? session.exitCodeForErrors();
  writeExitLine(session, code);
  return code;
}
