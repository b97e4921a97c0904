import type { SyncExitCode } from "./exit-codes.ts";
import { SYNC_EXIT } from "./exit-codes.ts";
import { formatBytes, formatLongDate, formatStatistic } from "./output-format.ts";
import type { SyncStateChannel } from "./state-channel.ts";
import type { SyncArgs } from "./sync-args.ts";

/** What went wrong, in imapsync's vocabulary (`The most frequent error is ERR_…`). */
export type SyncErrorCategory =
  | "ERR_CONNECTION_FAILURE_HOST1"
  | "ERR_CONNECTION_FAILURE_HOST2"
  | "ERR_AUTHENTICATION_FAILURE_USER1"
  | "ERR_AUTHENTICATION_FAILURE_USER2"
  | "ERR_TLS_FAILURE"
  | "ERR_APPEND"
  | "ERR_OVERQUOTA"
  | "ERR_FETCH"
  | "ERR_CREATE"
  | "ERR_SELECT"
  | "ERR_FOLDER_MISSING"
  | "ERR_OTHER";

const CATEGORY_EXIT: Record<SyncErrorCategory, SyncExitCode> = {
  ERR_CONNECTION_FAILURE_HOST1: SYNC_EXIT.connectionFailureHost1,
  ERR_CONNECTION_FAILURE_HOST2: SYNC_EXIT.connectionFailureHost2,
  ERR_AUTHENTICATION_FAILURE_USER1: SYNC_EXIT.authenticationFailureUser1,
  ERR_AUTHENTICATION_FAILURE_USER2: SYNC_EXIT.authenticationFailureUser2,
  ERR_TLS_FAILURE: SYNC_EXIT.tlsFailure,
  ERR_APPEND: SYNC_EXIT.appendError,
  ERR_OVERQUOTA: SYNC_EXIT.overQuota,
  ERR_FETCH: SYNC_EXIT.fetchError,
  ERR_CREATE: SYNC_EXIT.createError,
  ERR_SELECT: SYNC_EXIT.selectError,
  ERR_FOLDER_MISSING: SYNC_EXIT.withErrors,
  ERR_OTHER: SYNC_EXIT.withErrors,
};

export class ErrorsMaxReached extends Error {
  override readonly name = "ErrorsMaxReached";
}

/** What the engine talks to: where lines go, the passwords, and the stop signal. */
export interface SyncIo {
  writeLine(line: string): void;
  /** From IMAPSYNC_PASSWORD1/2. Never printed: lines containing one are redacted. */
  password1: string;
  password2: string;
  /** Aborted on SIGTERM/SIGINT: the engine stops, prints its statistics and exits 6. */
  signal?: AbortSignal;
  /** Dispatches "resume" when the waits for a throttling server must end now (SIGUSR2). */
  resumeRequests?: EventTarget;
  pid?: number;
  ppid?: number;
  /** The incremental sync state channel (`--statefd`); without it every folder is compared in full. */
  state?: SyncStateChannel;
}

export interface SyncCounters {
  transferred: number;
  skipped: number;
  wouldTransfer: number;
  duplicatesHost1: number;
  duplicatesHost2: number;
  voidHost1: number;
  voidHost2: number;
  missingOnHost2: number;
  missingOnHost1: number;
  deletedOnHost2: number;
  reconnectionsHost1: number;
  reconnectionsHost2: number;
  identifiedHost1: number;
  identifiedHost2: number;
  bytesTransferred: number;
  bytesSkipped: number;
  biggestTransferred: number;
  foldersSynced: number;
  foldersTotal: number;
  /** Messages handled so far (copied, skipped or failed), for the ETA. */
  processed: number;
  /** Source messages in all planned folders, for the ETA. */
  total: number;
}

/** State shared by one run: options, counters, errors and the output. */
export class SyncSession {
  readonly counters: SyncCounters = {
    transferred: 0,
    skipped: 0,
    wouldTransfer: 0,
    duplicatesHost1: 0,
    duplicatesHost2: 0,
    voidHost1: 0,
    voidHost2: 0,
    missingOnHost2: 0,
    missingOnHost1: 0,
    deletedOnHost2: 0,
    reconnectionsHost1: 0,
    reconnectionsHost2: 0,
    identifiedHost1: 0,
    identifiedHost2: 0,
    bytesTransferred: 0,
    bytesSkipped: 0,
    biggestTransferred: 0,
    foldersSynced: 0,
    foldersTotal: 0,
    processed: 0,
    total: 0,
  };
  readonly errors: { category: SyncErrorCategory; text: string }[] = [];
  readonly startedAt = new Date();
  private readonly startedMs = performance.now();
  private readonly secrets: string[];
  stoppedBySignal = false;
  /**
   * Set when the run must end early without a signal: the destination is over quota (nothing more
   * will fit) or --exitwhenover was reached. Holds the exit code to end with.
   */
  halt: SyncExitCode | undefined;
  /** Automatic retries (in-process waits and reconnections) this run has spent; see --retries. */
  retriesSpent = 0;
  /**
   * Outages counted per side, and for each connection the count when it was opened: a blip drops every
   * lane's connection to a server at once, and the lanes' reconnections after it spend one automatic
   * retry, not one each. A connection opened before the last counted outage died in it (or so close
   * to it that it is the same fault); one opened since is a new outage.
   */
  readonly outages = { 1: 0, 2: 0 };
  /**
   * The wait for a throttling server in progress on each side (see throttle-waits.ts): lanes throttled
   * meanwhile join it. Kept here, on the run's one session, because each folder pass sees the session
   * through a proxy of its own.
   */
  readonly ongoingWaits = new Map<1 | 2, { done: Promise<void>; endEarly: Set<() => void> }>();
  readonly connectionEpochs = new WeakMap<object, number>();
  /**
   * Bytes sent in appends not yet confirmed, across every folder being copied at once: --exitwhenover
   * counts them with the confirmed ones, or two lanes could each fill the budget.
   */
  bytesInFlight = 0;

  constructor(
    readonly args: SyncArgs,
    readonly io: SyncIo,
  ) {
    // Redaction is a last line of defence: no code path prints a password on purpose. Very short
    // values are left alone, or every line containing that letter would be mangled.
    this.secrets = [io.password1, io.password2].filter((secret) => secret.length >= 4);
  }

  get stopping(): boolean {
    return this.stoppedBySignal || this.io.signal?.aborted === true;
  }

  write(line: string): void {
    let safe = line;
    for (const secret of this.secrets) {
      if (safe.includes(secret)) {
        safe = safe.split(secret).join("MASKED");
      }
    }
    this.io.writeLine(safe);
  }

  elapsedSeconds(): number {
    return (performance.now() - this.startedMs) / 1000;
  }

  /** Prints and records an error; throws ErrorsMaxReached past --errorsmax. */
  error(category: SyncErrorCategory, text: string): void {
    this.errors.push({ category, text });
    this.write(text);
    if (this.errors.length > this.args.errorsMax) {
      throw new ErrorsMaxReached(`Maximum number of errors ${this.args.errorsMax} reached`);
    }
  }

  /** imapsync's choice of exit code: the most frequent error's, EXIT_WITH_ERRORS otherwise. */
  mostFrequentError(): SyncErrorCategory | undefined {
    const counts = new Map<SyncErrorCategory, number>();
    let best: SyncErrorCategory | undefined;
    let bestCount = 0;
    for (const { category } of this.errors) {
      const count = (counts.get(category) ?? 0) + 1;
      counts.set(category, count);
      if (count > bestCount) {
        best = category;
        bestCount = count;
      }
    }
    return best;
  }

  exitCodeForErrors(): SyncExitCode {
    const category = this.mostFrequentError();
    if (!category) {
      return SYNC_EXIT.ok;
    }
    const code = CATEGORY_EXIT[category];
    return code === SYNC_EXIT.connectionFailureHost1 || code === SYNC_EXIT.connectionFailureHost2
      ? SYNC_EXIT.withErrors
      : code;
  }

  /** The `++++ Statistics` block, with imapsync 2.229's key names. */
  writeStatistics(): void {
    const c = this.counters;
    const seconds = this.elapsedSeconds();
    const rate = seconds > 0 ? c.transferred / seconds : 0;
    const bandwidth = seconds > 0 ? c.bytesTransferred / 1024 / seconds : 0;
    const memory = process.memoryUsage().rss / 1024 / 1024;
    const cpu = process.cpuUsage();
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const transferred = this.args.dry
      ? `${c.transferred} (could be ${c.wouldTransfer} without dry mode)`
      : `${c.transferred} `;
    const voidText =
      c.voidHost1 > 0 && !this.args.addHeader
        ? `${c.voidHost1}  in order to sync those ${c.voidHost1} unidentified messages, add option --addheader`
        : `${c.voidHost1}  `;
    const lines: [string, string][] = [
      ["Transfer started on", formatLongDate(this.startedAt)],
      ["Transfer ended on", formatLongDate(new Date())],
      ["Transfer time", `${seconds.toFixed(1)} sec`],
      ["Folders synced", `${c.foldersSynced}/${c.foldersTotal} synced`],
      ["Messages transferred", transferred],
      ["Messages skipped", `${c.skipped}`],
      ["Messages found duplicate on host1", `${c.duplicatesHost1}`],
      ["Messages found duplicate on host2", `${c.duplicatesHost2}`],
      ["Messages found crossduplicate on host2", "0"],
      ["Messages void (noheader) on host1", voidText],
      ["Messages void (noheader) on host2", `${c.voidHost2}`],
      ["Messages found in host1 not in host2", `${c.missingOnHost2} messages`],
      ["Messages found in host2 not in host1", `${c.missingOnHost1} messages`],
      ["Messages deleted on host1", "0"],
      ["Messages deleted on host2", `${c.deletedOnHost2}`],
      ["Total bytes transferred", `${c.bytesTransferred} (${formatBytes(c.bytesTransferred)})`],
      ["Total bytes skipped", `${c.bytesSkipped} (${formatBytes(c.bytesSkipped)})`],
      ["Message rate", `${rate.toFixed(1)} messages/s`],
      ["Average bandwidth rate", `${bandwidth.toFixed(1)} KiB/s`],
      ["Reconnections to host1", `${c.reconnectionsHost1}`],
      ["Reconnections to host2", `${c.reconnectionsHost2}`],
      ["Memory consumption at the end", `${memory.toFixed(1)} MiB`],
      [
        "CPU time and %cpu",
        `${cpuSeconds.toFixed(2)} sec ${seconds > 0 ? ((cpuSeconds / seconds) * 100).toFixed(1) : "0.0"} %cpu`,
      ],
      ["Biggest message transferred", `${c.biggestTransferred} bytes (${formatBytes(c.biggestTransferred)})`],
      [
        "Memory/biggest message ratio",
        c.biggestTransferred > 0 ? (process.memoryUsage().rss / c.biggestTransferred).toFixed(1) : "NA",
      ],
    ];
    this.write("++++ Statistics");
    for (const [key, value] of lines) {
      this.write(formatStatistic(key, value));
    }
    if (c.missingOnHost2 === 0) {
      this.write(`The sync looks good, all ${c.identifiedHost1} identified messages in host1 are on host2.`);
    } else {
      this.write(
        `The sync is not finished, there are ${c.missingOnHost2} among ${c.identifiedHost1} identified messages in host1 that are not on host2.`,
      );
    }
    if (c.voidHost1 > 0 && !this.args.addHeader) {
      this.write(
        `There are ${c.voidHost1} unidentified messages (usually Sent or Draft messages). To sync them add option --addheader`,
      );
    } else {
      this.write("There is no unidentified message on host1.");
    }
    if (c.missingOnHost1 === 0) {
      this.write(`The sync is strict, all ${c.identifiedHost2} identified messages in host2 are on host1.`);
    } else {
      this.write(
        `The sync is not strict, there are ${c.missingOnHost1} among ${c.identifiedHost2} identified messages in host2 that are not on host1.`,
      );
    }
    this.write(`Detected ${this.errors.length} errors`);
  }

  /** `++++ Listing N errors …`, the `Err i/N:` lines and the most frequent error. */
  writeErrorListing(userHint?: string): void {
    if (this.errors.length === 0) {
      return;
    }
    const n = this.errors.length;
    this.write(
      `++++ Listing ${n} errors encountered during the sync ( avoid this listing with --noerrorsdump ).`,
    );
    this.errors.forEach((entry, i) => {
      this.write(`Err ${i + 1}/${n}: ${entry.text}`);
    });
    const category = this.mostFrequentError();
    this.write(`The most frequent error is ${category}.${userHint ? ` ${userHint}` : ""}`);
  }
}
