import { describe, expect, it } from "vitest";
import { snapshotOfSpec } from "./mailbox.ts";

const internalDate = "2024-01-02T03:04:05Z";
const inInbox = (source: string) => ({ folders: [{ path: "INBOX", messages: [{ source, internalDate }] }] });

describe("snapshotOfSpec with ignoreHeaders", () => {
  it("leaves out the named header fields, folded lines included, and nothing in the body", () => {
    const original = "From: a@example.net\r\nSubject: hi\r\n\r\nMessage-ID: <kept-in-body>\r\n";
    const copied =
      "From: a@example.net\r\nMessage-Id:\r\n <added@imapsync>\r\nSubject: hi\r\n\r\nMessage-ID: <kept-in-body>\r\n";

    expect(snapshotOfSpec(inInbox(copied), { ignoreHeaders: ["message-id"] })).toEqual(
      snapshotOfSpec(inInbox(original), { ignoreHeaders: ["Message-ID"] }),
    );
    expect(snapshotOfSpec(inInbox(copied))).not.toEqual(snapshotOfSpec(inInbox(original)));
  });

  it("lists parent folders as empty mailboxes and keeps internal dates to the second", () => {
    const snapshot = snapshotOfSpec({
      folders: [
        {
          path: "A/B",
          messages: [{ source: "Subject: x\r\n\r\n.\r\n", internalDate: "2024-01-02T03:04:05.678Z" }],
        },
      ],
    });
    expect(snapshot.folders.map((folder) => folder.path)).toEqual(["A", "A/B", "INBOX"]);
    expect(snapshot.folders[1]?.messages[0]?.internalDate).toBe("2024-01-02T03:04:05.000Z");
  });
});
