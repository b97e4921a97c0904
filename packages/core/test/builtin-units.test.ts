import { describe, expect, it } from "vitest";
import { expandUidSet, formatImapDateTime, storableFlags } from "../src/engines/builtin/append-messages.ts";
import { ByteBoundedQueue } from "../src/engines/builtin/byte-queue.ts";
import { groupByDestination, laneCount, runLanes } from "../src/engines/builtin/folder-lanes.ts";
import { startFolderPass } from "../src/engines/builtin/folder-pass.ts";
import type { FolderPlan } from "../src/engines/builtin/folder-plan.ts";
import type { FolderSyncContext } from "../src/engines/builtin/folder-sync-context.ts";
import { encodeModifiedUtf7, translateFolderPath } from "../src/engines/builtin/mailbox-name.ts";
import { uidSets } from "../src/engines/builtin/mailbox-scan.ts";
import {
  addedHeader,
  addedHeaderIdentity,
  hasTrustedMessageId,
  headerIdentity,
  messageIdentity,
} from "../src/engines/builtin/message-identity.ts";
import {
  folderLabel,
  formatBytes,
  formatCopiedLine,
  formatEta,
  formatFolderLine,
  formatLongDate,
  formatStatistic,
} from "../src/engines/builtin/output-format.ts";
import { parseSyncArgs, SyncUsageError } from "../src/engines/builtin/sync-args.ts";
import { SyncSession } from "../src/engines/builtin/sync-session.ts";
import { readImapsyncFixture } from "./support/imapsync-fixtures.ts";

function fixtureLines(name: string): string[] {
  return readImapsyncFixture(name).split("\n");
}

describe("imapferry-sync output lines match imapsync 2.229 byte for byte", () => {
  const alice = fixtureLines("alice-real.log");

  it("prints the folder line with imapsync's widths, non-ASCII names included", () => {
    expect(alice).toContain(
      formatFolderLine(
        1,
        6,
        folderLabel("Archive/2023", "Archive/2023"),
        folderLabel("Archive/2023", "Archive/2023"),
      ),
    );
    const projects = folderLabel(encodeModifiedUtf7("Projects/Ω-team"), "Projects/Ω-team");
    expect(alice).toContain(formatFolderLine(4, 6, projects, projects));
    const drafts = folderLabel(encodeModifiedUtf7("Entwürfe"), "Entwürfe");
    expect(alice).toContain(formatFolderLine(2, 6, drafts, drafts));
  });

  it("prints the copied line with its rates and running total", () => {
    const line = formatCopiedLine({
      sourceFolder: "Archive/2023",
      sourceUid: 1,
      size: 478,
      destinationFolder: "Archive/2023",
      destinationUid: 1,
      messagesPerSecond: 48.37,
      bytesPerSecond: 22.581 * 1024,
      bytesCopied: 478,
      eta: undefined,
    });
    expect(alice).toContain(line);
  });

  it("prints ETA lines and long dates as imapsync does", () => {
    expect(formatLongDate(new Date("2026-11-23T05:35:18Z"))).toBe(
      "Monday 23 November 2026-11-23 05:35:18 +0000 UTC",
    );
    const eta = formatEta({
      now: new Date("2026-11-23T05:38:30Z"),
      elapsedSeconds: 0,
      processed: 0,
      total: 2000,
    });
    expect(fixtureLines("bob-real.log")).toContain(eta);
  });

  it("pads statistics keys to imapsync's column and formats sizes in KiB and MiB", () => {
    expect(alice).toContain(formatStatistic("Messages skipped", "33"));
    expect(alice).toContain(formatStatistic("Total bytes transferred", `31891 (${formatBytes(31891)})`));
    expect(fixtureLines("bob-real.log")).toContain(
      formatStatistic("Total bytes transferred", `131300388 (${formatBytes(131300388)})`),
    );
  });
});

describe("mailbox names", () => {
  it("encodes modified UTF-7 as the wire form", () => {
    expect(encodeModifiedUtf7("Entwürfe")).toBe("Entw&APw-rfe");
    expect(encodeModifiedUtf7("Projects/Ω-team")).toBe("Projects/&A6k--team");
    expect(encodeModifiedUtf7("Tom & Jerry")).toBe("Tom &- Jerry");
    expect(encodeModifiedUtf7("INBOX")).toBe("INBOX");
  });

  it("translates separators and namespace prefixes between servers", () => {
    const courier = { delimiter: ".", prefix: "INBOX." };
    const dovecot = { delimiter: "/", prefix: "" };
    expect(translateFolderPath("INBOX.Archive.2023", courier, dovecot)).toBe("Archive/2023");
    expect(translateFolderPath("Archive/2023", dovecot, courier)).toBe("INBOX.Archive.2023");
    expect(translateFolderPath("INBOX", dovecot, courier)).toBe("INBOX");
    // A dot inside a name would split it into two levels on a dot-separated server.
    expect(translateFolderPath("Release v1.2", dovecot, courier)).toBe("INBOX.Release v1_2");
  });
});

describe("message identity", () => {
  it("uses Message-Id and Received lines plus the size, unfolded and case-insensitive", () => {
    const a = Buffer.from("Message-ID: <a@x>\r\nReceived: from x\r\n by y\r\n\r\n");
    const b = Buffer.from("message-id:  <a@x>\r\nRECEIVED: from x by y\r\n\r\n");
    expect(messageIdentity(a, 100)).toBe(messageIdentity(b, 100));
    expect(messageIdentity(a, 100)).not.toBe(messageIdentity(a, 101));
    expect(messageIdentity(Buffer.from("\r\n"), 100)).toBeUndefined();
    expect(messageIdentity(undefined, 100)).toBeUndefined();
  });

  it("reads the header key and the trusted Message-Id at once exactly as the two separate readings do", () => {
    const blocks = [
      "Message-ID: <a@x>\r\nReceived: from x\r\n by y\r\n\r\n",
      "Message-ID: <a@x>\r\nMessage-ID: <b@x>\r\n\r\n",
      "Message-ID: not-an-id\r\n\r\n",
      "Received: from x\r\n\r\n",
      "\r\n",
    ].map((text) => Buffer.from(text));
    for (const headers of [...blocks, undefined]) {
      for (const size of [100, undefined]) {
        expect(headerIdentity(headers, size)).toEqual({
          headerKey: messageIdentity(headers, size),
          trustedId: hasTrustedMessageId(headers),
        });
      }
    }
  });

  it("gives a header-less message under --addheader the identity its copy will have", () => {
    const header = addedHeader(7);
    expect(header.toString()).toBe("Message-Id: <7@imapsync>\r\n");
    expect(addedHeaderIdentity(7, 149, false)).toBe(messageIdentity(header, 149 + header.length));
  });
});

describe("command line", () => {
  const base = ["--host1", "a.example", "--user1", "u1", "--host2", "b.example", "--user2", "u2"];

  it("accepts what the imapsync argument builder emits", () => {
    const args = parseSyncArgs([
      ...[
        "--host1",
        "src.example",
        "--port1",
        "993",
        "--user1",
        "alice",
        "--ssl1",
        "--sslargs1",
        "SSL_verify_mode=0",
      ],
      ...["--host2", "dst.example", "--port2", "143", "--user2", "alice", "--nossl2", "--notls2"],
      ...[
        "--folder",
        "INBOX",
        "--exclude",
        "^Junk$",
        "--f1f2",
        "Sent=Sent Items",
        "--automap",
        "--addheader",
      ],
      ...["--maxbytespersecond", "100000", "--timeout1", "30", "--timeout2", "30", "--errorsmax", "10"],
      ...["--noreleasecheck", "--nofoldersizes", "--nolog", "--dry"],
    ]);
    expect(args.host1).toEqual({
      host: "src.example",
      port: 993,
      user: "alice",
      security: "tls",
      verifyCertificate: false,
      timeoutSeconds: 30,
    });
    expect(args.host2).toMatchObject({ port: 143, security: "none", verifyCertificate: true });
    expect(args.folders).toEqual(["INBOX"]);
    expect(args.excludes[0]?.test("Junk")).toBe(true);
    expect(args.folderMappings.get("Sent")).toBe("Sent Items");
    expect(args).toMatchObject({
      automap: true,
      addHeader: true,
      dry: true,
      maxBytesPerSecond: 100000,
      errorsMax: 10,
    });
  });

  it("defaults like imapsync: STARTTLS when offered, port 143, 993 with --ssl, certificates verified", () => {
    const args = parseSyncArgs([...base, "--ssl2"]);
    expect(args.host1).toMatchObject({ port: 143, security: "auto", verifyCertificate: true });
    expect(args.host2).toMatchObject({ port: 993, security: "tls" });
    expect(parseSyncArgs([...base, "--tls1"]).host1.security).toBe("starttls");
  });

  it("refuses unknown options, missing hosts and passwords in argv without echoing them", () => {
    expect(() => parseSyncArgs([...base, "--frobnicate"])).toThrow(SyncUsageError);
    expect(() => parseSyncArgs(base.slice(2))).toThrow("--host1 is required");
    expect(() => parseSyncArgs([...base, "--password1", "hunter22"])).toThrow(/IMAPSYNC_PASSWORD1/);
    try {
      parseSyncArgs([...base, "--password2", "hunter22"]);
    } catch (e: unknown) {
      expect(String(e)).not.toContain("hunter22");
    }
    expect(() => parseSyncArgs([...base, "--delete1"])).toThrow(/never deletes/);
    expect(() => parseSyncArgs([...base, "--port1", "70000"])).toThrow(SyncUsageError);
  });
});

describe("APPEND details", () => {
  it("drops \\Recent and keeps keywords", () => {
    expect(storableFlags(["\\Seen", "\\Recent", "$Work", "\\Flagged"])).toEqual([
      "\\Seen",
      "$Work",
      "\\Flagged",
    ]);
  });

  it("formats internal dates in UTC with a space-padded day", () => {
    expect(formatImapDateTime(new Date("2020-02-29T21:59:59Z"))).toBe("29-Feb-2020 21:59:59 +0000");
    expect(formatImapDateTime(new Date("2019-03-04T05:06:09Z"))).toBe(" 4-Mar-2019 05:06:09 +0000");
  });

  it("compacts and expands UID sets", () => {
    expect(uidSets([1, 2, 3, 5, 7, 8], 100)).toEqual(["1:3,5,7:8"]);
    expect(uidSets([1, 2, 3, 4], 2)).toEqual(["1:2", "3:4"]);
    expect(expandUidSet("5:7,9")).toEqual([5, 6, 7, 9]);
  });
});

describe("byte-bounded queue", () => {
  it("holds the producer while full and hands out batches up to the byte limit", async () => {
    const queue = new ByteBoundedQueue<string>(10);
    await queue.put("a", 6);
    let secondQueued = false;
    const second = queue.put("b", 6).then(() => {
      secondQueued = true;
    });
    await Promise.resolve();
    expect(secondQueued).toBe(false);
    expect(await queue.takeBatch(10, 100)).toEqual(["a"]);
    await second;
    await queue.put("c", 1);
    queue.close();
    expect(await queue.takeBatch(10, 6)).toEqual(["b"]);
    expect(await queue.takeBatch(10, 6)).toEqual(["c"]);
    expect(await queue.takeBatch(10, 6)).toEqual([]);
  });
});

describe("folders in parallel", () => {
  const args = (extra: string[] = []) =>
    parseSyncArgs(["--host1", "a", "--user1", "u", "--host2", "b", "--user2", "v", ...extra]);
  const plan = (source: string, destination: string) =>
    ({
      source: { path: source, wireName: source, selectable: true, subscribed: true },
      destinationPath: destination,
      destinationWireName: destination,
    }) as FolderPlan;

  it("keeps folders that write to one destination folder, and whole subtrees, together and in order", () => {
    const groups = groupByDestination(
      [
        plan("INBOX", "INBOX"),
        plan("Sent", "Sent"),
        plan("Archive", "Archive"),
        plan("Archive/2024", "Archive/2024"),
        plan("Gesendet", "Sent"),
        plan("Lists/dev", "Lists/dev"),
      ],
      "/",
    );
    expect(groups.map((group) => group.map(({ plan: p, index }) => `${index}:${p.source.path}`))).toEqual([
      ["1:INBOX"],
      ["2:Sent", "5:Gesendet"],
      ["3:Archive", "4:Archive/2024"],
      ["6:Lists/dev"],
    ]);
  });

  it("opens as many connection sets as --connections allows per account, one when throttled", () => {
    // Four per account by default: two sets with the appender, two folders at once.
    expect(args().connections).toBe(4);
    expect(laneCount(args(), 6, true)).toBe(2);
    expect(laneCount(args(), 1, true)).toBe(1);
    // With the pipelined appender a set holds two destination connections.
    expect(laneCount(args(["--connections", "4"]), 6, true)).toBe(2);
    expect(laneCount(args(["--connections", "4"]), 6, false)).toBe(4);
    expect(laneCount(args(["--connections", "8"]), 3, true)).toBe(3);
    expect(laneCount(args(["--connections", "1"]), 6, true)).toBe(1);
    expect(laneCount(args(["--maxmessagespersecond", "5"]), 6, false)).toBe(1);
    expect(() => args(["--connections", "0"])).toThrow(SyncUsageError);
    expect(() => args(["--connections", "17"])).toThrow(SyncUsageError);
  });

  it("runs every group once, on at most as many lanes at once as there are", async () => {
    const groups = groupByDestination(
      ["A", "B", "C", "D", "E"].map((name) => plan(name, name)),
      "/",
    );
    const lanes = [{ name: "one" }, { name: "two" }] as unknown as FolderSyncContext[];
    let running = 0;
    let most = 0;
    const done: string[] = [];
    await runLanes(
      lanes,
      groups,
      async (_lane, { plan: p }) => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setImmediate(resolve));
        done.push(p.source.path);
        running -= 1;
      },
      () => false,
    );
    expect(done.sort()).toEqual(["A", "B", "C", "D", "E"]);
    expect(most).toBe(2);
  });

  it("a folder pass counts its own share while other folders count on the same session", () => {
    const session = new SyncSession(args(), {
      writeLine: () => {},
      password1: "secret-1",
      password2: "secret-2",
    });
    const pass = startFolderPass(session);
    pass.session.counters.transferred += 3;
    session.counters.transferred += 10; // another lane
    pass.session.counters.skipped += 2;
    pass.session.error("ERR_APPEND", "pass error");
    session.error("ERR_FETCH", "other lane's error");
    expect(session.counters).toMatchObject({ transferred: 13, skipped: 2 });
    expect(pass.tally).toMatchObject({ transferred: 3, skipped: 2 });
    expect(pass.errors.map((e) => e.text)).toEqual(["pass error"]);
    pass.session.halt = 113;
    expect(session.halt).toBe(113);

    pass.undo(["transferred"]);
    expect(session.counters).toMatchObject({ transferred: 13, skipped: 0 });
    expect(session.errors.map((e) => e.text)).toEqual(["other lane's error"]);
  });
});
