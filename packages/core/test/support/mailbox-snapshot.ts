import { createHash } from "node:crypto";
import type { MailboxSnapshot } from "@imapferry/testkit";
import { corpusMessage } from "@imapferry/testkit";

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The snapshot without the messages whose bytes hash to one of `hashes`. */
export function withoutMessages(snapshot: MailboxSnapshot, hashes: Set<string>): MailboxSnapshot {
  return {
    folders: snapshot.folders.map((folder) => ({
      path: folder.path,
      messages: folder.messages.filter((message) => !hashes.has(message.sha256)),
    })),
  };
}

export function messageCount(snapshot: MailboxSnapshot): number {
  return snapshot.folders.reduce((sum, folder) => sum + folder.messages.length, 0);
}

/**
 * The standard corpus's two messages with neither Message-ID nor Received: imapsync recognises them
 * only with `--addheader` (which adds a header), the built-in engine by their content.
 */
export const HEADERLESS = new Set([
  sha256(corpusMessage("no-message-id-1.eml")),
  sha256(corpusMessage("no-message-id-2.eml")),
]);

/**
 * The standard corpus's header-less messages as imapsync's --addheader copies them: its
 * `Message-Id: <UID@imapsync>` on top (both are UID 2 of their folder).
 */
export const ADDED_HEADER_COPIES = new Set([
  sha256(Buffer.concat([Buffer.from("Message-Id: <2@imapsync>\r\n"), corpusMessage("no-message-id-1.eml")])),
  sha256(Buffer.concat([Buffer.from("Message-Id: <2@imapsync>\r\n"), corpusMessage("no-message-id-2.eml")])),
]);
