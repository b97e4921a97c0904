import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { IMAPSYNC_FIXTURES, readImapsyncFixture } from "../../../test/support/imapsync-fixtures.ts";
import type {
  EtaEvent,
  ExitEvent,
  FolderEvent,
  LoginEvent,
  MessageCopiedEvent,
  MessageEvent,
  ParsedEvent,
  StatisticsEvent,
} from "./parser.ts";
import { createOutputParser, parseOutput } from "./parser.ts";

function ofType<T extends ParsedEvent["type"]>(
  events: ParsedEvent[],
  type: T,
): Extract<ParsedEvent, { type: T }>[] {
  return events.filter((e): e is Extract<ParsedEvent, { type: T }> => e.type === type);
}

function messages(events: ParsedEvent[], action: MessageEvent["action"]): MessageEvent[] {
  return ofType(events, "message").filter((e) => e.action === action);
}

function only<T>(items: T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

describe("output parser on real imapsync 2.229 output", () => {
  it("covers every fixture file: each line yields events, and no file ends without an exit line", () => {
    const files = readdirSync(IMAPSYNC_FIXTURES).filter((f) => f.endsWith(".log"));
    expect(files.sort()).toEqual([
      "alice-addheader.log",
      "alice-dry.log",
      "alice-real.log",
      "alice-rerun.log",
      "authfail.log",
      "bob-cancel.log",
      "bob-real.log",
      "connfail.log",
      "justlogin-fail.log",
    ]);
    for (const file of files) {
      const text = readImapsyncFixture(file);
      const parser = createOutputParser();
      const lines = text.split("\n").filter((l, i, all) => i < all.length - 1 || l !== "");
      for (const line of lines) expect(parser.push(line).length).toBeGreaterThan(0);
      const events = parseOutput(text);
      expect(ofType(events, "exit"), file).toHaveLength(1);
      // Unknown lines stay log lines with their text intact.
      expect(ofType(events, "log").some((e) => e.line.startsWith("Here is imapsync 2.229"))).toBe(true);
    }
  });

  it("alice-real: 15 copied with sizes and rates, 31 skipped for lack of headers, statistics 15 transferred / 33 skipped", () => {
    const events = parseOutput(readImapsyncFixture("alice-real.log"));
    const copied = messages(events, "copied") as MessageCopiedEvent[];
    expect(copied).toHaveLength(15);
    expect(copied[0]).toEqual({
      type: "message",
      action: "copied",
      folder: "Archive/2023",
      uid: 1,
      size: 478,
      destinationFolder: "Archive/2023",
      destinationUid: 1,
      messagesPerSecond: 48.37,
      bytesPerSecond: Math.round(22.581 * 1024),
      bytesCopiedTotal: Math.round(0.467 * 1024),
    });
    expect(copied.reduce((sum, m) => sum + m.size, 0)).toBe(31891);
    const omega = copied.find((m) => m.folder === "Projects/&A6k--team" && m.uid === 9);
    expect(omega).toMatchObject({ size: 9383, destinationUid: 2 });

    const skipped = messages(events, "skipped");
    expect(skipped).toHaveLength(31);
    expect(skipped[0]).toEqual({
      type: "message",
      action: "skipped",
      folder: "Archive/2023",
      uid: 3,
      size: 149,
      reason: "noheader",
    });

    const logins = ofType(events, "login");
    expect(logins).toEqual<LoginEvent[]>([
      { type: "login", side: "source", ok: true, host: "127.0.0.1", user: "alice" },
      { type: "login", side: "destination", ok: true, host: "127.0.0.1", user: "alice" },
    ]);

    const folders = ofType(events, "folder");
    expect(folders.map((f) => `${f.index}/${f.count} ${f.sourceDisplay}`)).toEqual([
      "1/6 Archive/2023",
      "2/6 Entwürfe",
      "3/6 INBOX",
      "4/6 Projects/Ω-team",
      "5/6 Sent",
      "6/6 Trash",
    ]);
    expect(folders[1]).toEqual<FolderEvent>({
      type: "folder",
      index: 2,
      count: 6,
      source: "Entw&APw-rfe",
      sourceDisplay: "Entwürfe",
      destination: "Entw&APw-rfe",
      destinationDisplay: "Entwürfe",
    });

    const { stats } = only(ofType(events, "statistics"));
    expect(stats).toMatchObject({
      transferStartedOn: "2026-11-23T05:35:18.000Z",
      transferEndedOn: "2026-11-23T05:35:19.000Z",
      transferTimeSeconds: 0.5,
      foldersSynced: 6,
      foldersTotal: 6,
      messagesTransferred: 15,
      messagesSkipped: 33,
      duplicatesOnSource: 2,
      duplicatesOnDestination: 0,
      crossDuplicatesOnDestination: 0,
      unidentifiedOnSource: 31,
      unidentifiedOnDestination: 0,
      onSourceNotOnDestination: 0,
      onDestinationNotOnSource: 0,
      deletedOnSource: 0,
      deletedOnDestination: 0,
      bytesTransferred: 31891,
      bytesSkipped: 29562,
      messagesPerSecond: 30.1,
      bytesPerSecond: Math.round(62.4 * 1024),
      reconnectionsToSource: 0,
      reconnectionsToDestination: 0,
      biggestMessageBytes: 9383,
      errors: 0,
    });
    // Keys without a typed field are kept, verbatim.
    expect(stats.raw["Memory/biggest message ratio"]).toBe("19984.1");
    expect(stats.raw["CPU time and %cpu"]).toBe("0.84 sec 168.4 %cpu 84.2 %allcpus");

    expect(only(ofType(events, "exit"))).toEqual<ExitEvent>({
      type: "exit",
      code: 0,
      name: "EX_OK",
      description: "successful termination",
      errors: 0,
      maxErrors: 50,
    });
    expect(ofType(events, "error")).toHaveLength(0);
  });

  it("alice-dry: messages that would be copied, nothing copied, 'could be 42' read from the statistics", () => {
    const events = parseOutput(readImapsyncFixture("alice-dry.log"));
    expect(messages(events, "copied")).toHaveLength(0);
    const dry = messages(events, "dry-run");
    expect(dry).toHaveLength(3);
    expect(dry[0]).toEqual({
      type: "message",
      action: "dry-run",
      folder: "INBOX",
      uid: 1,
      destinationFolder: "INBOX",
    });
    const { stats } = only(ofType(events, "statistics"));
    expect(stats).toMatchObject({ messagesTransferred: 0, messagesWouldTransfer: 42, messagesSkipped: 6 });
    expect(only(ofType(events, "exit")).code).toBe(0);
  });

  it("alice-rerun: an idempotent rerun copies nothing and skips all 48", () => {
    const events = parseOutput(readImapsyncFixture("alice-rerun.log"));
    expect(messages(events, "copied")).toHaveLength(0);
    expect(only(ofType(events, "statistics")).stats).toMatchObject({
      messagesTransferred: 0,
      messagesSkipped: 48,
      bytesTransferred: 0,
      errors: 0,
    });
  });

  it("alice-addheader: the 31 header-less messages are copied too", () => {
    const events = parseOutput(readImapsyncFixture("alice-addheader.log"));
    expect(messages(events, "copied")).toHaveLength(31);
    expect(messages(events, "skipped")).toHaveLength(0);
    expect(only(ofType(events, "statistics")).stats).toMatchObject({
      messagesTransferred: 31,
      messagesSkipped: 17,
      bytesTransferred: 30370,
    });
  });

  it("bob-real: 2000 copied, per-message ETA with messages left, sizes summing to the statistics", () => {
    const events = parseOutput(readImapsyncFixture("bob-real.log"));
    const copied = messages(events, "copied") as MessageCopiedEvent[];
    expect(copied).toHaveLength(2000);
    expect(copied.reduce((sum, m) => sum + m.size, 0)).toBe(131300388);
    const big = copied.find((m) => m.folder === "Archive" && m.uid === 12);
    expect(big).toMatchObject({ size: 4107650, bytesPerSecond: Math.round(27.626 * 1024 ** 2) });

    const etas = ofType(events, "eta");
    expect(etas.length).toBe(2007);
    expect(etas[0]).toEqual<EtaEvent>({
      type: "eta",
      finishAt: "2026-11-23T05:38:30.000Z",
      etaSeconds: 0,
      messagesLeft: 2000,
      messagesTotal: 2000,
    });
    expect(etas[1]).toMatchObject({ etaSeconds: 86, messagesLeft: 1999, messagesTotal: 2000 });
    expect(etas[etas.length - 1]).toMatchObject({ messagesLeft: 0, messagesTotal: 2000 });
    // Every message line's ETA follows its message event directly.
    const firstCopyIndex = events.findIndex((e) => e.type === "message");
    expect(events[firstCopyIndex + 1]).toMatchObject({ type: "eta", messagesLeft: 1999 });

    const { stats } = only(ofType(events, "statistics"));
    expect(stats).toMatchObject({
      messagesTransferred: 2000,
      messagesSkipped: 0,
      bytesTransferred: 131300388,
      transferTimeSeconds: 9.5,
      messagesPerSecond: 210.9,
      startDifferenceMessages: -2000,
      startDifferenceBytes: -131300388,
      finalDifferenceMessages: 0,
      finalDifferenceBytes: 0,
      errors: 0,
    });
    expect(only(ofType(events, "exit"))).toMatchObject({ code: 0, name: "EX_OK" });
  });

  it("bob-cancel: the TERM signal, partial statistics and exit 6 (EXIT_BY_SIGNAL)", () => {
    const events = parseOutput(readImapsyncFixture("bob-cancel.log"));
    expect(only(ofType(events, "signal"))).toEqual({ type: "signal", signal: "TERM" });
    expect(messages(events, "copied")).toHaveLength(719);
    expect(ofType(events, "folder").map((f) => f.source)).toEqual(["Archive", "Archive/2024", "INBOX"]);
    const { stats } = only(ofType(events, "statistics"));
    expect(stats).toMatchObject({
      foldersSynced: 3,
      foldersTotal: 6,
      messagesTransferred: 719,
      onSourceNotOnDestination: 291,
      bytesTransferred: 52407197,
      finalDifferenceMessages: null,
      finalDifferenceBytes: null,
    });
    expect(only(ofType(events, "exit"))).toEqual<ExitEvent>({
      type: "exit",
      code: 6,
      name: "EXIT_BY_SIGNAL",
      description: "",
      errors: 1,
      maxErrors: 50,
    });
    // The signal comes before the statistics, the statistics before the exit line.
    const order = events
      .map((e) => e.type)
      .filter((t) => t === "signal" || t === "statistics" || t === "exit");
    expect(order).toEqual(["signal", "statistics", "exit"]);
  });

  it("authfail: the source login fails, the destination succeeds, exit 161", () => {
    const events = parseOutput(readImapsyncFixture("authfail.log"));
    expect(ofType(events, "login")).toEqual<LoginEvent[]>([
      {
        type: "login",
        side: "source",
        ok: false,
        host: "127.0.0.1",
        user: "alice",
        reason: "4 NO [AUTHENTICATIONFAILED] Authentication failed.",
      },
      { type: "login", side: "destination", ok: true, host: "127.0.0.1", user: "alice" },
    ]);
    expect(only(ofType(events, "error"))).toEqual({
      type: "error",
      index: 1,
      count: 1,
      message:
        "Host1 failure: Error login on [127.0.0.1] with user [alice] auth [LOGIN]: 4 NO [AUTHENTICATIONFAILED] Authentication failed.",
    });
    expect(only(ofType(events, "most-frequent-error"))).toEqual({
      type: "most-frequent-error",
      name: "ERR_AUTHENTICATION_FAILURE_USER1",
      message: "Check the credentials for alice.",
    });
    expect(only(ofType(events, "exit"))).toMatchObject({
      code: 161,
      name: "EXIT_AUTHENTICATION_FAILURE_USER1",
      errors: 1,
    });
    expect(ofType(events, "statistics")).toHaveLength(0);
    // --password1 was on this command line on purpose: imapsync masks it, and the parser passes it through.
    expect(ofType(events, "log").some((e) => e.line.includes("MASKED"))).toBe(true);
  });

  it("connfail: the source connection is refused, the destination login fails, exit 162", () => {
    const events = parseOutput(readImapsyncFixture("connfail.log"));
    expect(only(ofType(events, "connect-failed"))).toEqual({
      type: "connect-failed",
      side: "source",
      host: "127.0.0.1",
      user: "alice",
      reason: "Unable to connect to 127.0.0.1: Connection refused",
    });
    expect(ofType(events, "login")).toEqual([
      expect.objectContaining({
        side: "destination",
        ok: false,
        reason: expect.stringContaining("AUTHENTICATIONFAILED"),
      }),
    ]);
    expect(ofType(events, "error").map((e) => `${e.index}/${e.count}`)).toEqual(["1/2", "2/2"]);
    expect(only(ofType(events, "exit"))).toMatchObject({
      code: 162,
      name: "EXIT_AUTHENTICATION_FAILURE_USER2",
    });
  });

  it("justlogin-fail: both logins fail (one event per side), exit 161", () => {
    const events = parseOutput(readImapsyncFixture("justlogin-fail.log"));
    expect(ofType(events, "login").map((l) => `${l.side}:${l.ok}`)).toEqual([
      "source:false",
      "destination:false",
    ]);
    expect(only(ofType(events, "exit")).code).toBe(161);
  });
});

describe("output parser on lines it does not know", () => {
  it("keeps unknown and near-miss lines as log lines, never errors", () => {
    const parser = createOutputParser();
    for (const line of [
      "Some new line imapsync 2.300 prints",
      "msg something odd",
      "Folder without the right shape",
      "ETA: soon",
      "Host1: something new",
      "",
    ]) {
      expect(parser.push(line)).toEqual([{ type: "log", line }]);
    }
  });

  it("matches statistics by key name: reordered and unknown keys, CRLF line ends, and a block cut short", () => {
    const parser = createOutputParser();
    const events = [
      "++++ Statistics\r",
      "A key from the future                   : 42 things\r",
      "Messages skipped                        : 3\r",
      "Messages transferred                    : 7 \r",
    ].flatMap((l) => parser.push(l));
    expect(ofType(events, "statistics")).toHaveLength(0);
    const flushed = parser.end();
    expect(only(ofType(flushed, "statistics")).stats).toEqual({
      messagesSkipped: 3,
      messagesTransferred: 7,
      raw: { "A key from the future": "42 things", "Messages skipped": "3", "Messages transferred": "7" },
    });
  });

  it("closes the statistics block at the exit line when 'Detected N errors' is missing", () => {
    const events = parseOutput(
      [
        "++++ Statistics",
        "Messages transferred : 1",
        "Exiting with return value 111 (EXIT_WITH_ERRORS) 3/50 nb_errors/max_errors PID 1",
      ].join("\n"),
    );
    expect(events.map((e) => e.type)).toEqual(["log", "log", "statistics", "exit"]);
    expect((events[2] as StatisticsEvent).stats.messagesTransferred).toBe(1);
    expect(events[3]).toMatchObject({ code: 111, name: "EXIT_WITH_ERRORS", errors: 3, maxErrors: 50 });
  });
  it("reads a connection that dropped mid-run, as imapsync and the built-in engine print it", () => {
    const events = parseOutput(
      [
        "Failure: lost connection for host2 [127.0.0.1]: (len=41) Error sending '27 NOOP': NO not connected",
        "Host2: connection lost while appending to folder INBOX: The destination closed the append connection.",
        "Host1: connection lost while fetching from folder INBOX: Connection not available",
      ].join("\n"),
    );
    expect(events).toEqual([
      {
        type: "connection-lost",
        side: "destination",
        detail: "(len=41) Error sending '27 NOOP': NO not connected",
      },
      {
        type: "connection-lost",
        side: "destination",
        detail: "while appending to folder INBOX: The destination closed the append connection.",
      },
      {
        type: "connection-lost",
        side: "source",
        detail: "while fetching from folder INBOX: Connection not available",
      },
    ]);
  });
});
