import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { MailboxSpec } from "./mailbox.ts";

/** packages/testkit/corpus: the same two levels up from src/imap and from dist/imap. */
export const corpusDir = fileURLToPath(new URL("../../corpus/", import.meta.url));

/** File names of the committed corpus, sorted. */
export function corpusMessageNames(): string[] {
  return readdirSync(corpusDir)
    .filter((name) => name.endsWith(".eml"))
    .sort();
}

/** The exact bytes of one corpus message, e.g. `corpusMessage("tiny.eml")`. */
export function corpusMessage(name: string): Buffer {
  return readFileSync(new URL(name, new URL("../../corpus/", import.meta.url)));
}

/**
 * The whole corpus spread over INBOX, Sent, Archive, Archive/2024, "Entwürfe" and "Archiv/2024/Café ☕",
 * with every kind of flag and internal dates across years and time zones. One message sits in two folders
 * and two share a Message-ID, as real mailboxes do.
 */
export function standardMailboxSpec(): MailboxSpec {
  const m = corpusMessage;
  return {
    folders: [
      {
        path: "INBOX",
        messages: [
          { source: m("plain-ascii.eml"), flags: ["\\Seen"], internalDate: "2019-03-04T05:06:09Z" },
          {
            source: m("multipart-alternative.eml"),
            flags: ["\\Seen", "\\Flagged"],
            internalDate: "2024-10-15T07:30:02Z",
          },
          { source: m("rfc2047-headers.eml"), flags: [], internalDate: "2024-01-11T13:15:30Z" },
          {
            source: m("tiny.eml"),
            flags: ["\\Answered", "\\Seen"],
            internalDate: "2020-02-29T23:59:59+02:00",
          },
          {
            source: m("duplicate-message-id-a.eml"),
            flags: ["\\Seen"],
            internalDate: "2024-04-09T14:00:05Z",
          },
        ],
      },
      {
        path: "Sent",
        messages: [
          { source: m("utf8-8bit-body.eml"), flags: ["\\Seen"], internalDate: "2024-12-20T17:00:01Z" },
          {
            source: m("attachment-binary.eml"),
            flags: ["\\Seen", "$Work"],
            internalDate: "2024-06-05T16:45:12Z",
          },
        ],
      },
      {
        path: "Archive",
        messages: [
          { source: m("long-line.eml"), flags: ["\\Seen"], internalDate: "2024-03-02T12:00:03Z" },
          {
            source: m("no-message-id-1.eml"),
            flags: ["\\Seen", "\\Flagged"],
            internalDate: "2019-07-07T07:07:08Z",
          },
          {
            source: m("duplicate-message-id-b.eml"),
            flags: ["\\Seen"],
            internalDate: "2024-04-09T14:20:00Z",
          },
        ],
      },
      {
        path: "Archive/2024",
        messages: [
          { source: m("large-1mb.eml"), flags: ["\\Seen"], internalDate: "2024-11-28T22:10:04Z" },
          { source: m("no-message-id-2.eml"), flags: [], internalDate: "2019-07-08T07:07:09Z" },
        ],
      },
      {
        path: "Entwürfe",
        messages: [
          {
            source: m("nested-multipart.eml"),
            flags: ["\\Draft", "\\Seen"],
            internalDate: "2024-05-01T10:00:00Z",
          },
        ],
      },
      {
        path: "Archiv/2024/Café ☕",
        messages: [
          {
            source: m("utf8-8bit-body.eml"),
            flags: ["\\Answered", "\\Seen", "$Work"],
            internalDate: "2024-12-21T09:00:00+01:00",
          },
          { source: m("tiny.eml"), flags: ["$Later"], internalDate: "2021-08-15T06:30:00Z" },
        ],
      },
    ],
  };
}

/**
 * Mail that tools which identify messages by Message-ID alone lose: messages without one (a
 * byte-identical pair among them), one with a malformed id, two different messages whose headers
 * and size agree, and a message held twice. 11 messages in INBOX and Sent; a faithful copy holds
 * all 11, each as often as the source does.
 */
export function unidentifiableMailboxSpec(): MailboxSpec {
  const m = corpusMessage;
  return {
    folders: [
      {
        path: "INBOX",
        messages: [
          { source: m("no-message-id-1.eml"), flags: ["\\Seen"], internalDate: "2019-07-07T07:07:08Z" },
          // The same bytes again, delivered twice: the destination must hold both.
          { source: m("no-message-id-1.eml"), flags: [], internalDate: "2019-07-07T07:07:08Z" },
          { source: m("no-message-id-2.eml"), flags: ["\\Flagged"], internalDate: "2019-07-08T07:07:09Z" },
          { source: m("malformed-message-id.eml"), flags: [], internalDate: "2018-01-10T09:00:01Z" },
          { source: m("same-headers-a.eml"), flags: ["\\Seen"], internalDate: "2024-04-11T08:00:01Z" },
          { source: m("same-headers-b.eml"), flags: [], internalDate: "2024-04-11T08:00:02Z" },
          { source: m("plain-ascii.eml"), flags: ["\\Seen"], internalDate: "2019-03-04T05:06:09Z" },
          { source: m("plain-ascii.eml"), flags: ["\\Seen"], internalDate: "2019-03-04T05:06:09Z" },
          { source: m("tiny.eml"), flags: [], internalDate: "2020-02-29T21:59:59Z" },
        ],
      },
      {
        path: "Sent",
        messages: [
          { source: m("no-message-id-2.eml"), flags: ["\\Seen"], internalDate: "2019-07-08T07:07:09Z" },
          {
            source: m("duplicate-message-id-a.eml"),
            flags: ["\\Seen"],
            internalDate: "2024-04-09T14:00:05Z",
          },
        ],
      },
    ],
  };
}
