import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateLargeMailbox } from "./generate.ts";

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe("generateLargeMailbox", () => {
  it("makes about 130 MB from 1 KB to 4 MB for 2000 messages, each with its own Message-ID", () => {
    const mailbox = generateLargeMailbox({ seed: 3 });
    const messages = [...mailbox.messages()];

    expect(mailbox.messageCount).toBe(2000);
    expect(mailbox.totalBytes).toBeGreaterThan(120_000_000);
    expect(mailbox.totalBytes).toBeLessThan(140_000_000);
    expect(Math.min(...messages.map((message) => message.size))).toBe(1024);
    expect(Math.max(...messages.map((message) => message.size))).toBe(4 * 1024 * 1024);
    expect(new Set(messages.map((message) => message.messageId)).size).toBe(2000);
    expect(new Set(messages.map((message) => message.folder))).toEqual(new Set(mailbox.folders));
    expect(mailbox.folders).toHaveLength(6);
  });

  it("builds exactly the advertised bytes, CRLF only, the same for the same seed", () => {
    const first = generateLargeMailbox({ messages: 120, seed: 9 });
    const again = generateLargeMailbox({ messages: 120, seed: 9 });
    const other = generateLargeMailbox({ messages: 120, seed: 10 });
    for (const index of [0, 1, 2, 57, 119]) {
      const message = first.message(index);
      const source = message.source();
      expect(source.length).toBe(message.size);
      expect(source.toString("latin1").replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
      expect(source.toString("latin1")).toContain(`Message-ID: ${message.messageId}\r\n`);
      expect(sha(again.message(index).source())).toBe(sha(source));
      expect(again.message(index)).toMatchObject({ flags: message.flags, folder: message.folder });
      expect(sha(other.message(index).source())).not.toBe(sha(source));
    }
  });
});
