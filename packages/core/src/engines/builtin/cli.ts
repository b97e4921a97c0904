#!/usr/bin/env node
/**
 * imapferry-sync: imapferry's built-in migration engine, a drop-in for the subset of imapsync
 * that imapferry drives. Same flags (imapsync spelling), same output lines, same exit codes.
 *
 *   IMAPSYNC_PASSWORD1=… IMAPSYNC_PASSWORD2=… imapferry-sync --host1 H --user1 U --host2 H --user2 U
 *
 * Transport: --sslN (implicit TLS), --tlsN (STARTTLS required), --notlsN (plain), default
 * STARTTLS when offered; certificates verified unless --sslargsN SSL_verify_mode=0.
 * Selection: --folder, --folderrec, --include, --exclude, --subscribed, --f1f2 src=dst,
 * --automap, --subfolder2, --skipemptyfolders. Messages: --addheader, --skipsize, --maxsize,
 * --minsize, --maxage, --minage, --delete2 (destination only), --noresyncflags. Control: --dry,
 * --justlogin, --justfolders, --maxbytespersecond, --maxmessagespersecond, --exitwhenover,
 * --errorsmax, --timeoutN. Its own: --connections N (default 1), the most connections per account;
 * folders are copied in parallel over separate connection sets within it; --statefd N, the
 * descriptor of the incremental sync state channel the worker opens (see state-channel.ts). imapsync's
 * logging/caching/release-check flags are accepted and
 * ignored; anything else, and --password1/2, --delete1, --regextrans2, --pipemess…, exits 64.
 * --retries N, the automatic retries (in-process waits, reconnections) the run may spend.
 * SIGTERM/SIGINT: stop, print the statistics, exit 6 (EXIT_BY_SIGNAL). SIGUSR2: end the waits for
 * a throttling server now ("Resume now").
 */
import type { SyncExitCode } from "./exit-codes.ts";
import { exitCodeName, SYNC_EXIT } from "./exit-codes.ts";
import { ENGINE_NAME, runSync } from "./run-sync.ts";
import { openStateChannel } from "./state-channel.ts";
import { parseSyncArgs, SyncUsageError } from "./sync-args.ts";

/*
 * stdout is a pipe when the worker runs us, and on Linux pipe writes are synchronous: a write per
 * line was a system call per copied message. Lines written in one event-loop turn (a settled
 * MULTIAPPEND batch reports all its messages at once) leave in one write at the end of the turn,
 * and exitWith writes what is left before the process ends.
 */
let unwritten: string[] = [];

function flushLines(): void {
  if (unwritten.length === 0) return;
  const text = `${unwritten.join("\n")}\n`;
  unwritten = [];
  process.stdout.write(text);
}

function writeLine(line: string): void {
  if (unwritten.length === 0) setImmediate(flushLines);
  unwritten.push(line);
}

function exitWith(code: SyncExitCode): never {
  flushLines();
  process.exit(code);
}

function usageFailure(message: string): never {
  writeLine(`${ENGINE_NAME}: ${message}`);
  writeLine(
    `usage: ${ENGINE_NAME} --host1 H --user1 U --host2 H --user2 U [--port1 P] [--ssl1|--tls1|--notls1] [--dry] [--justlogin] [--folder F] [--include RE] [--exclude RE] [--automap] [--addheader] ...`,
  );
  writeLine("Passwords come from the environment: IMAPSYNC_PASSWORD1 and IMAPSYNC_PASSWORD2.");
  writeLine(
    `Exiting with return value ${SYNC_EXIT.usage} (${exitCodeName(SYNC_EXIT.usage)}) 0/50 nb_errors/max_errors PID ${process.pid}`,
  );
  exitWith(SYNC_EXIT.usage);
}

async function main(): Promise<void> {
  process.stdout.on("error", function ignoreClosedStdout() {
    // The reader went away (e.g. the worker was killed); the run still ends with its exit code.
  });
  let args: ReturnType<typeof parseSyncArgs>;
  try {
    args = parseSyncArgs(process.argv.slice(2));
  } catch (e: unknown) {
    if (e instanceof SyncUsageError) {
      usageFailure(e.message);
    }
    throw e;
  }
  // This executable's contract is imapsync's: passwords arrive in the environment (argv is
  // world-readable in /proc), so this entry point is where they are read, once.
  const password1 = process.env.IMAPSYNC_PASSWORD1;
  const password2 = process.env.IMAPSYNC_PASSWORD2;
  if (password1 === undefined || password1 === "") {
    usageFailure("IMAPSYNC_PASSWORD1 is not set: the source password must be given in the environment.");
  }
  if (password2 === undefined || password2 === "") {
    usageFailure("IMAPSYNC_PASSWORD2 is not set: the destination password must be given in the environment.");
  }
  const controller = new AbortController();
  for (const name of ["SIGTERM", "SIGINT", "SIGQUIT"] as const) {
    process.on(name, function stopOnSignal() {
      if (!controller.signal.aborted) {
        controller.abort(name);
      }
    });
  }
  // "Resume now" on a job waiting out a throttle in this process: the worker sends SIGUSR2 and every
  // in-process wait ends at once (see throttle-waits.ts).
  const resumeRequests = new EventTarget();
  process.on("SIGUSR2", function resumeWaitsNow() {
    resumeRequests.dispatchEvent(new Event("resume"));
  });
  // Without setpriv's parent-death signal (macOS, Alpine), a worker killed with -9 would leave this
  // engine copying while another worker resumes the job: stop as on SIGTERM once the parent is gone.
  const parent = process.ppid;
  const parentWatch = setInterval(function stopWhenOrphaned() {
    if (process.ppid !== parent && !controller.signal.aborted) controller.abort("SIGTERM");
  }, 1000);
  parentWatch.unref();
  const state = args.stateFd === undefined ? undefined : await openStateChannel(args.stateFd);
  const code = await runSync(args, {
    writeLine,
    password1,
    password2,
    signal: controller.signal,
    resumeRequests,
    pid: process.pid,
    ppid: process.ppid,
    ...(state ? { state } : {}),
  });
  // The worker stores what the channel carried: it is flushed before the process ends.
  await state?.close();
  exitWith(code);
}

main().catch(function crash(e: unknown) {
  const message = e instanceof Error ? e.message.split("\n")[0] : String(e);
  writeLine(`${ENGINE_NAME}: internal error: ${message}`);
  writeLine(
    `Exiting with return value ${SYNC_EXIT.software} (${exitCodeName(SYNC_EXIT.software)}) 1/50 nb_errors/max_errors PID ${process.pid}`,
  );
  exitWith(SYNC_EXIT.software);
});
