import { describe, expect, it } from "vitest";
import { describeExit, EXIT_CATEGORIES, IMAPSYNC_EXIT_CODES } from "./exit-codes.ts";

const mailboxes = {
  source: { user: "alice@example.com", host: "imap.old.example" },
  destination: { user: "alice@new.example", host: "imap.new.example" },
};

describe("imapsync exit codes", () => {
  it("knows every exit code imapsync 2.229 defines", () => {
    const documented = [
      0, 1, 6, 7, 8, 10, 101, 102, 12, 16, 161, 162, 21, 64, 66, 69, 70, 111, 112, 113, 114, 115, 116, 117,
      118, 119, 120,
    ];
    for (const code of documented) expect(IMAPSYNC_EXIT_CODES.has(code), String(code)).toBe(true);
  });

  it("gives every known code a category and a sentence naming a mailbox, never 'undefined'", () => {
    for (const code of IMAPSYNC_EXIT_CODES.keys()) {
      const d = describeExit({ exitCode: code, ...mailboxes });
      expect(EXIT_CATEGORIES).toContain(d.category);
      expect(d.sentence).toMatch(/alice@(example\.com|new\.example)/);
      expect(d.sentence).not.toMatch(/undefined|null|NaN/);
      expect(d.sentence).toMatch(/[.]$/);
    }
  });

  it.each([
    [161, "source-auth", "The source server rejected the password for alice@example.com."],
    [162, "destination-auth", "The destination server rejected the password for alice@new.example."],
    [101, "source-connect", "Could not connect to the source server imap.old.example for alice@example.com"],
    [
      102,
      "destination-connect",
      "Could not connect to the destination server imap.new.example for alice@new.example",
    ],
    [113, "over-quota", "The destination mailbox alice@new.example is over its quota"],
    [12, "tls", "The TLS handshake failed"],
    [111, "errors", "finished with errors"],
    [112, "errors-max", "gave up after too many errors"],
    [114, "append", "APPEND failed"],
    [115, "fetch", "FETCH failed"],
    [116, "create", "could not be created"],
    [117, "select", "SELECT failed"],
    [6, "signal", "stopped by a signal"],
    [64, "usage", "rejected its command line"],
    [0, "ok", "finished without errors"],
  ] as const)("exit %i is %s: %s", (exitCode, category, text) => {
    const d = describeExit({ exitCode, ...mailboxes });
    expect(d.category).toBe(category);
    expect(d.sentence).toContain(text);
  });

  it("uses the side the output blamed for imapsync's ambiguous codes", () => {
    expect(describeExit({ exitCode: 16, failedSide: "destination", ...mailboxes })).toMatchObject({
      category: "destination-auth",
      sentence: "The destination server rejected the password for alice@new.example.",
    });
    expect(describeExit({ exitCode: 10, failedSide: "source", ...mailboxes }).category).toBe(
      "source-connect",
    );
    expect(describeExit({ exitCode: 12, failedSide: "source", ...mailboxes }).sentence).toContain(
      "TLS handshake with the source server imap.old.example failed for alice@example.com",
    );
  });

  it("counts the errors from the exit line", () => {
    expect(describeExit({ exitCode: 111, errors: 3, ...mailboxes }).sentence).toContain(
      "finished with 3 errors",
    );
    expect(describeExit({ exitCode: 111, errors: 1, ...mailboxes }).sentence).toContain(
      "finished with 1 error:",
    );
  });

  it("reports a signal death after a cancel as cancelled, and one without as a crash", () => {
    expect(describeExit({ exitCode: null, signal: "SIGTERM", cancelled: true, ...mailboxes })).toMatchObject({
      category: "cancelled",
      name: "SIGNAL",
    });
    expect(describeExit({ exitCode: 6, cancelled: true, ...mailboxes }).category).toBe("cancelled");
    const crash = describeExit({ exitCode: null, signal: "SIGKILL", ...mailboxes });
    expect(crash.category).toBe("signal");
    expect(crash.sentence).toContain("killed by SIGKILL");
  });

  it("says so for a code it does not know", () => {
    expect(describeExit({ exitCode: 42, ...mailboxes })).toMatchObject({
      category: "unknown",
      name: "UNKNOWN",
    });
  });
  it("blames a dropped connection, side and host, for an APPEND failure or a SIGPIPE it caused", () => {
    const connectionLost = {
      side: "destination" as const,
      detail: "Error sending '27 NOOP': NO not connected",
    };
    for (const exit of [{ exitCode: 114 }, { exitCode: null, signal: "SIGPIPE" }]) {
      const d = describeExit({ ...exit, connectionLost, ...mailboxes });
      expect(d.category).toBe("destination-connect");
      expect(d.sentence).toMatch(/^The connection to the destination server imap\.new\.example was lost/);
      expect(d.sentence).toContain("NO not connected");
      expect(d.sentence).not.toMatch(/APPEND|SIGPIPE|out of memory/);
    }
    // A quota refusal or a cancel stays what it is.
    expect(describeExit({ exitCode: 113, connectionLost, ...mailboxes }).category).toBe("over-quota");
    expect(describeExit({ exitCode: 6, cancelled: true, connectionLost, ...mailboxes }).category).toBe(
      "cancelled",
    );
  });
});
