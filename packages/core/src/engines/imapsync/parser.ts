/**
 * One streaming parser for engine output: imapsync prints these line shapes, and the built-in engine
 * prints the same ones, so progress, statistics and errors are read the same way for both.
 * Shapes were taken from real imapsync 2.229 output (test/fixtures/imapsync). Newer releases add lines:
 * anything not recognised is a plain `log` event, never an error, and statistics are matched by key name.
 */

/** host1 is the source, host2 the destination, in imapsync's words. */
export type EngineSide = "source" | "destination";

export interface LoginEvent {
  type: "login";
  side: EngineSide;
  ok: boolean;
  host: string;
  user: string;
  /** The server's answer when the login failed, e.g. "4 NO [AUTHENTICATIONFAILED] Authentication failed." */
  reason?: string;
}

/** The TCP/TLS connection could not be opened at all (refused, DNS, timeout, TLS handshake). */
export interface ConnectFailedEvent {
  type: "connect-failed";
  side: EngineSide;
  host: string;
  user: string;
  reason: string;
}

export interface FolderEvent {
  type: "folder";
  /** 1-based position of this folder in the run. */
  index: number;
  count: number;
  /** IMAP (modified UTF-7) name on the source, as imapsync prints it inside the first brackets. */
  source: string;
  destination: string;
  /** UTF-8 rendering imapsync adds for non-ASCII names (`[X] = [Y]`), else the same as the IMAP name. */
  sourceDisplay: string;
  destinationDisplay: string;
}

export interface MessageCopiedEvent {
  type: "message";
  action: "copied";
  folder: string;
  uid: number;
  size: number;
  destinationFolder: string;
  /** UID on the destination when the server reports it (UIDPLUS), else null. */
  destinationUid: number | null;
  /** Run-wide averages imapsync prints after each copy. */
  messagesPerSecond: number;
  bytesPerSecond: number;
  /** Bytes copied so far in the run (imapsync prints it rounded to KiB/MiB precision). */
  bytesCopiedTotal: number;
}

export interface MessageSkippedEvent {
  type: "message";
  action: "skipped";
  folder: string;
  uid: number;
  size: number;
  /**
   * "noheader": no Message-ID/Received header, so imapsync cannot identify it (use --addheader);
   * "maxsize"/"minsize": outside the size limits (`msg F/5 skipped (N exceeds maxsize limit M bytes)`).
   */
  reason: "noheader" | "maxsize" | "minsize";
}

/** `--dry`: the message would be copied. */
export interface MessageDryRunEvent {
  type: "message";
  action: "dry-run";
  folder: string;
  uid: number;
  destinationFolder: string;
}

export type MessageEvent = MessageCopiedEvent | MessageSkippedEvent | MessageDryRunEvent;

export interface EtaEvent {
  type: "eta";
  /** Estimated finish time as ISO 8601, when it could be read. */
  finishAt: string | null;
  etaSeconds: number;
  messagesLeft: number;
  messagesTotal: number;
}

/** A failure reported while it happens ("Host1 failure: …"), before the final error listing. */
export interface FailureEvent {
  type: "failure";
  side: EngineSide;
  message: string;
}

/**
 * A connection that dropped under the engine while it worked: imapsync's `Failure: lost connection for
 * host2 [h]: …` and the built-in engine's `Host2: connection lost while appending to folder INBOX: …`.
 */
export interface ConnectionLostEvent {
  type: "connection-lost";
  side: EngineSide;
  detail: string;
}

/** One entry of the final error listing: `Err 1/2: …`. */
export interface ErrorEvent {
  type: "error";
  index: number;
  count: number;
  message: string;
}

export interface MostFrequentErrorEvent {
  type: "most-frequent-error";
  /** imapsync's error class, e.g. "ERR_AUTHENTICATION_FAILURE_USER1". */
  name: string;
  message: string;
}

export interface SignalEvent {
  type: "signal";
  /** Signal name without the SIG prefix, e.g. "TERM". */
  signal: string;
}

/** The statistics block after `++++ Statistics`, typed where known; `raw` keeps every key, known or not. */
export interface ImapsyncStatistics {
  transferStartedOn?: string;
  transferEndedOn?: string;
  transferTimeSeconds?: number;
  foldersSynced?: number;
  foldersTotal?: number;
  messagesTransferred?: number;
  /** Under --dry: how many messages a real run would copy ("0 (could be 42 without dry mode)"). */
  messagesWouldTransfer?: number;
  messagesSkipped?: number;
  duplicatesOnSource?: number;
  duplicatesOnDestination?: number;
  crossDuplicatesOnDestination?: number;
  /** Messages without identifying headers ("void (noheader)"), skipped unless --addheader. */
  unidentifiedOnSource?: number;
  unidentifiedOnDestination?: number;
  onSourceNotOnDestination?: number;
  onDestinationNotOnSource?: number;
  deletedOnSource?: number;
  deletedOnDestination?: number;
  bytesTransferred?: number;
  bytesSkipped?: number;
  messagesPerSecond?: number;
  bytesPerSecond?: number;
  reconnectionsToSource?: number;
  reconnectionsToDestination?: number;
  biggestMessageBytes?: number;
  /** Destination minus source before the run; null when imapsync printed NA. */
  startDifferenceMessages?: number | null;
  startDifferenceBytes?: number | null;
  finalDifferenceMessages?: number | null;
  finalDifferenceBytes?: number | null;
  /** From "Detected N errors". */
  errors?: number;
  /** Every `key : value` line of the block, verbatim (keys trimmed). */
  raw: Record<string, string>;
}

export interface StatisticsEvent {
  type: "statistics";
  stats: ImapsyncStatistics;
}

export interface ExitEvent {
  type: "exit";
  code: number;
  /** e.g. "EXIT_AUTHENTICATION_FAILURE_USER1" or "EX_OK". */
  name: string;
  /** The text after the name inside the parentheses, e.g. "successful termination"; often empty. */
  description: string;
  errors: number | null;
  maxErrors: number | null;
}

/** Any line not recognised above: shown in the log, never treated as an error. */
export interface LogLineEvent {
  type: "log";
  line: string;
}

export type ParsedEvent =
  | LoginEvent
  | ConnectFailedEvent
  | FolderEvent
  | MessageEvent
  | EtaEvent
  | FailureEvent
  | ConnectionLostEvent
  | ErrorEvent
  | MostFrequentErrorEvent
  | SignalEvent
  | StatisticsEvent
  | ExitEvent
  | LogLineEvent;

const UNIT_BYTES: Record<string, number> = {
  B: 1,
  bytes: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

function sideOf(hostN: string): EngineSide {
  return hostN === "1" ? "source" : "destination";
}

function toBytes(value: string, unit: string): number {
  return Math.round(Number.parseFloat(value) * (UNIT_BYTES[unit] ?? 1));
}

const RE = {
  folder: /^Folder\s+(\d+)\/(\d+) \[(.*?)\](?: = \[(.*?)\])?\s+-> \[(.*?)\](?: = \[(.*?)\])?$/,
  copied:
    /^msg (.+)\/(\d+) \{(\d+)\}\s+copied to (.*?)\/(\d*)\s+([\d.]+) msgs\/s\s+([\d.]+) (B|KiB|MiB|GiB|TiB)\/s\s+([\d.]+) (B|KiB|MiB|GiB|TiB) copied(?:\s+(ETA: .*))?$/,
  dryCopy: /^msg (.+)\/(\d+) copying to (.*?)\s+\(not really since --dry mode\)$/,
  noHeader: /^Host1: (.+)\/(\d+) size (\d+) ignored \(no wanted headers/,
  sizeSkipped: /^msg (.+)\/(\d+) skipped \((\d+) (exceeds maxsize limit|smaller than minsize) \d+ bytes\)/,
  eta: /^ETA: (.*?)\s+(-?\d+) s\s+(\d+)\/(\d+) msgs left$/,
  loginOk: /^Host([12]): success login on \[(.*?)\] with user \[(.*?)\]/,
  loginError: /^Host([12]) failure: Error login on \[(.*?)\] with user \[(.*?)\](?: auth \[[^\]]*\])?: (.*)$/,
  loginFailed: /^Host([12]): failed login on \[(.*?)\] with user \[(.*?)\]/,
  connectFailed:
    /^Host([12]) failure: can not open imap connection on host[12] \[(.*?)\] with user \[(.*?)\]: (.*)$/,
  failure: /^Host([12]) failure: (.*)$/,
  connectionLost: /^Host([12]): connection lost (while .*)$/,
  lostConnection: /^Failure: lost connection for host([12]) \[[^\]]*\]: (.*)$/,
  err: /^Err (\d+)\/(\d+): (.*)$/,
  frequent: /^The most frequent error is (\w+)\.\s*(.*)$/,
  signal: /^Got a signal (\w+)\b/,
  statsHeader: /^\+\+\+\+ Statistics\s*$/,
  statsLine: /^([^:]*?\S)\s*:\s(.*)$/,
  detected: /^Detected (\d+) errors?\b/,
  exit: /^Exiting with return value (\d+) \(([A-Z0-9_]+)(?::\s*([^)]*))?\)(?:\s+(\d+)\/(\d+) nb_errors\/max_errors)?/,
};

/** "Monday 23 November 2026-11-23 05:39:56 +0000 UTC" → "2026-11-23T05:39:56+00:00". */
/** A skipped message from a match of RE.sizeSkipped or RE.noHeader: folder, uid and size, in that order. */
function skippedMessage(m: RegExpExecArray, reason: MessageSkippedEvent["reason"]): MessageSkippedEvent {
  return {
    type: "message",
    action: "skipped",
    folder: m[1] ?? "",
    uid: Number(m[2]),
    size: Number(m[3]),
    reason,
  };
}

function parseImapsyncDate(text: string): string | null {
  const m = /(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) ([+-]\d{2})(\d{2})/.exec(text);
  if (!m) return null;
  const date = new Date(`${m[1]}T${m[2]}${m[3]}:${m[4]}`);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function parseEta(text: string): EtaEvent | null {
  const m = RE.eta.exec(text);
  if (!m) return null;
  return {
    type: "eta",
    finishAt: parseImapsyncDate(m[1] ?? ""),
    etaSeconds: Number(m[2]),
    messagesLeft: Number(m[3]),
    messagesTotal: Number(m[4]),
  };
}

function firstInt(value: string): number | undefined {
  const m = /^-?\d+/.exec(value.trim());
  return m ? Number(m[0]) : undefined;
}

function firstFloat(value: string): number | undefined {
  const m = /^-?\d+(?:\.\d+)?/.exec(value.trim());
  return m ? Number(m[0]) : undefined;
}

/** "-2000 messages, -131300388 bytes (...)" or "NA messages, NA bytes (NA)". */
function parseDifference(value: string): { messages: number | null; bytes: number | null } {
  const m = /^(-?\d+|NA) messages, (-?\d+|NA) bytes/.exec(value.trim());
  if (!m) return { messages: null, bytes: null };
  return {
    messages: m[1] === "NA" ? null : Number(m[1]),
    bytes: m[2] === "NA" ? null : Number(m[2]),
  };
}

/** Maps the keys imapsync prints (matched by name, so reordering or new keys do not break it). */
function applyStatistic(stats: ImapsyncStatistics, key: string, value: string): void {
  const v = value.trim();
  switch (key) {
    case "Transfer started on":
      stats.transferStartedOn = parseImapsyncDate(v) ?? v;
      return;
    case "Transfer ended on":
      stats.transferEndedOn = parseImapsyncDate(v) ?? v;
      return;
    case "Transfer time":
      stats.transferTimeSeconds = firstFloat(v);
      return;
    case "Folders synced": {
      const m = /^(\d+)\/(\d+)/.exec(v);
      if (m) {
        stats.foldersSynced = Number(m[1]);
        stats.foldersTotal = Number(m[2]);
      }
      return;
    }
    case "Messages transferred": {
      stats.messagesTransferred = firstInt(v);
      const dry = /could be (\d+) without dry mode/.exec(v);
      if (dry) stats.messagesWouldTransfer = Number(dry[1]);
      return;
    }
    case "Messages skipped":
      stats.messagesSkipped = firstInt(v);
      return;
    case "Messages found duplicate on host1":
      stats.duplicatesOnSource = firstInt(v);
      return;
    case "Messages found duplicate on host2":
      stats.duplicatesOnDestination = firstInt(v);
      return;
    case "Messages found crossduplicate on host2":
      stats.crossDuplicatesOnDestination = firstInt(v);
      return;
    case "Messages void (noheader) on host1":
      stats.unidentifiedOnSource = firstInt(v);
      return;
    case "Messages void (noheader) on host2":
      stats.unidentifiedOnDestination = firstInt(v);
      return;
    case "Messages found in host1 not in host2":
      stats.onSourceNotOnDestination = firstInt(v);
      return;
    case "Messages found in host2 not in host1":
      stats.onDestinationNotOnSource = firstInt(v);
      return;
    case "Messages deleted on host1":
      stats.deletedOnSource = firstInt(v);
      return;
    case "Messages deleted on host2":
      stats.deletedOnDestination = firstInt(v);
      return;
    case "Total bytes transferred":
      stats.bytesTransferred = firstInt(v);
      return;
    case "Total bytes skipped":
      stats.bytesSkipped = firstInt(v);
      return;
    case "Message rate":
      stats.messagesPerSecond = firstFloat(v);
      return;
    case "Average bandwidth rate": {
      const m = /^([\d.]+) (B|KiB|MiB|GiB)\/s/.exec(v);
      if (m) stats.bytesPerSecond = toBytes(m[1] ?? "0", m[2] ?? "B");
      return;
    }
    case "Reconnections to host1":
      stats.reconnectionsToSource = firstInt(v);
      return;
    case "Reconnections to host2":
      stats.reconnectionsToDestination = firstInt(v);
      return;
    case "Biggest message transferred":
      stats.biggestMessageBytes = firstInt(v);
      return;
    case "Start difference host2 - host1": {
      const d = parseDifference(v);
      stats.startDifferenceMessages = d.messages;
      stats.startDifferenceBytes = d.bytes;
      return;
    }
    case "Final difference host2 - host1": {
      const d = parseDifference(v);
      stats.finalDifferenceMessages = d.messages;
      stats.finalDifferenceBytes = d.bytes;
      return;
    }
    default:
      // Unknown keys are kept in `raw` only.
      return;
  }
}

export interface OutputParser {
  /** Parses one line (without its newline) and returns what it means; at least one event per line. */
  push(line: string): ParsedEvent[];
  /** Call at end of output: flushes a statistics block that was never closed (e.g. output cut short). */
  end(): ParsedEvent[];
}

/** A parser for one run: it keeps the little state the output needs (the statistics block, login sides). */
export function createOutputParser(): OutputParser {
  let stats: ImapsyncStatistics | null = null;
  const loginFailureSeen = new Set<EngineSide>();

  function closeStats(): ParsedEvent[] {
    if (!stats) return [];
    const event: StatisticsEvent = { type: "statistics", stats };
    stats = null;
    return [event];
  }

  function parseLine(line: string): ParsedEvent[] {
    let m: RegExpExecArray | null;

    if (stats) {
      m = RE.detected.exec(line);
      if (m) {
        stats.errors = Number(m[1]);
        return [...closeStats(), { type: "log", line }];
      }
      m = RE.statsLine.exec(line);
      if (m && !line.startsWith("Exiting with")) {
        const key = (m[1] ?? "").trim();
        const value = m[2] ?? "";
        stats.raw[key] = value.trim();
        applyStatistic(stats, key, value);
        return [{ type: "log", line }];
      }
      if (RE.exit.test(line)) {
        const closed = closeStats();
        return [...closed, ...parseLine(line)];
      }
      // Sentences inside the block ("The sync looks good, …") stay log lines; the block stays open.
      return [{ type: "log", line }];
    }

    if (RE.statsHeader.test(line)) {
      stats = { raw: {} };
      return [{ type: "log", line }];
    }

    if (line.startsWith("msg ")) {
      m = RE.sizeSkipped.exec(line);
      if (m) {
        return [skippedMessage(m, m[4] === "exceeds maxsize limit" ? "maxsize" : "minsize")];
      }
      m = RE.copied.exec(line);
      if (m) {
        const copied: MessageCopiedEvent = {
          type: "message",
          action: "copied",
          folder: m[1] ?? "",
          uid: Number(m[2]),
          size: Number(m[3]),
          destinationFolder: m[4] ?? "",
          destinationUid: m[5] ? Number(m[5]) : null,
          messagesPerSecond: Number(m[6]),
          bytesPerSecond: toBytes(m[7] ?? "0", m[8] ?? "B"),
          bytesCopiedTotal: toBytes(m[9] ?? "0", m[10] ?? "B"),
        };
        const eta = m[11] ? parseEta(m[11]) : null;
        return eta ? [copied, eta] : [copied];
      }
      m = RE.dryCopy.exec(line);
      if (m) {
        return [
          {
            type: "message",
            action: "dry-run",
            folder: m[1] ?? "",
            uid: Number(m[2]),
            destinationFolder: m[3] ?? "",
          },
        ];
      }
      return [{ type: "log", line }];
    }

    if (line.startsWith("ETA: ")) {
      const eta = parseEta(line);
      return eta ? [eta] : [{ type: "log", line }];
    }

    if (line.startsWith("Folder ")) {
      m = RE.folder.exec(line);
      if (m) {
        return [
          {
            type: "folder",
            index: Number(m[1]),
            count: Number(m[2]),
            source: m[3] ?? "",
            sourceDisplay: m[4] ?? m[3] ?? "",
            destination: m[5] ?? "",
            destinationDisplay: m[6] ?? m[5] ?? "",
          },
        ];
      }
      return [{ type: "log", line }];
    }

    if (line.startsWith("Host")) {
      m = RE.noHeader.exec(line);
      if (m) {
        return [skippedMessage(m, "noheader")];
      }
      m = RE.loginOk.exec(line);
      if (m) {
        return [{ type: "login", side: sideOf(m[1] ?? ""), ok: true, host: m[2] ?? "", user: m[3] ?? "" }];
      }
      m = RE.loginError.exec(line);
      if (m) {
        const side = sideOf(m[1] ?? "");
        loginFailureSeen.add(side);
        return [
          { type: "login", side, ok: false, host: m[2] ?? "", user: m[3] ?? "", reason: (m[4] ?? "").trim() },
        ];
      }
      m = RE.loginFailed.exec(line);
      if (m) {
        const side = sideOf(m[1] ?? "");
        // imapsync prints both "Host1 failure: Error login …" and "Host1: failed login …": one event.
        if (loginFailureSeen.has(side)) return [{ type: "log", line }];
        loginFailureSeen.add(side);
        return [{ type: "login", side, ok: false, host: m[2] ?? "", user: m[3] ?? "" }];
      }
      m = RE.connectFailed.exec(line);
      if (m) {
        return [
          {
            type: "connect-failed",
            side: sideOf(m[1] ?? ""),
            host: m[2] ?? "",
            user: m[3] ?? "",
            reason: (m[4] ?? "").replace(/\s+/g, " ").trim(),
          },
        ];
      }
      m = RE.failure.exec(line);
      if (m) return [{ type: "failure", side: sideOf(m[1] ?? ""), message: (m[2] ?? "").trim() }];
      m = RE.connectionLost.exec(line);
      if (m) return [{ type: "connection-lost", side: sideOf(m[1] ?? ""), detail: (m[2] ?? "").trim() }];
      return [{ type: "log", line }];
    }

    m = RE.lostConnection.exec(line);
    if (m) return [{ type: "connection-lost", side: sideOf(m[1] ?? ""), detail: (m[2] ?? "").trim() }];

    m = RE.err.exec(line);
    if (m) return [{ type: "error", index: Number(m[1]), count: Number(m[2]), message: (m[3] ?? "").trim() }];

    m = RE.frequent.exec(line);
    if (m) return [{ type: "most-frequent-error", name: m[1] ?? "", message: (m[2] ?? "").trim() }];

    m = RE.signal.exec(line);
    if (m) return [{ type: "signal", signal: m[1] ?? "" }];

    m = RE.exit.exec(line);
    if (m) {
      return [
        {
          type: "exit",
          code: Number(m[1]),
          name: m[2] ?? "",
          description: (m[3] ?? "").trim(),
          errors: m[4] === undefined ? null : Number(m[4]),
          maxErrors: m[5] === undefined ? null : Number(m[5]),
        },
      ];
    }

    return [{ type: "log", line }];
  }

  return {
    push(rawLine: string): ParsedEvent[] {
      // Trailing padding and CRs carry no meaning in any of imapsync's shapes; the log keeps the raw line.
      const line = rawLine.replace(/[\r\s]+$/, "");
      const events = parseLine(line);
      // The log event carries the line as received, so the log viewer shows exactly what was printed.
      return events.map((e) => (e.type === "log" ? { type: "log", line: rawLine.replace(/\r$/, "") } : e));
    },
    end(): ParsedEvent[] {
      return closeStats();
    },
  };
}

/** Parses a whole output at once (tests, re-parsing a stored log). */
export function parseOutput(text: string): ParsedEvent[] {
  const parser = createOutputParser();
  const events: ParsedEvent[] = [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (const line of lines) events.push(...parser.push(line));
  events.push(...parser.end());
  return events;
}
