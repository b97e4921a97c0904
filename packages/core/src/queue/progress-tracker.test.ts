import { describe, expect, it } from "vitest";
import { readImapsyncFixture } from "../../test/support/imapsync-fixtures.ts";
import { parseOutput } from "../engines/imapsync/parser.ts";
import { applyEvent, emptyProgress } from "./progress-tracker.ts";

function progressOf(fixture: string) {
  const text = readImapsyncFixture(fixture);
  const progress = emptyProgress();
  for (const event of parseOutput(text)) applyEvent(progress, event);
  return progress;
}

describe("progress folded from real imapsync output", () => {
  it("ends with the statistics' figures for a clean run", () => {
    const progress = progressOf("alice-real.log");
    expect(progress.copied).toBe(15);
    expect(progress.skipped).toBe(33);
    expect(progress.errors).toBe(0);
  });

  it("counts each error once, not again from the closing error list", () => {
    // connfail.log: both logins fail, then imapsync lists them again as "Err 1/2" and "Err 2/2".
    expect(progressOf("connfail.log").errors).toBe(2);
  });

  it("follows a 2,000-message run to the end", () => {
    const progress = progressOf("bob-real.log");
    expect(progress.copied).toBe(2000);
    expect(progress.messagesLeft).toBe(0);
    expect(progress.folderCount).toBe(6);
  });

  it("shows the furthest folder started when folders are copied at once and announce out of order", () => {
    const progress = emptyProgress();
    const folder = (index: number, name: string) =>
      ({
        type: "folder",
        index,
        count: 4,
        source: name,
        destination: name,
        sourceDisplay: name,
        destinationDisplay: name,
      }) as const;
    for (const event of [folder(1, "INBOX"), folder(2, "Sent"), folder(4, "Trash"), folder(3, "Drafts")]) {
      applyEvent(progress, event);
    }
    expect(progress).toMatchObject({ folder: "Trash", folderIndex: 4, folderCount: 4 });
  });
});
