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
 * The standard corpus's two messages with neither Message-ID nor Received: without `--addheader`
 * neither engine can recognise them on a rerun, so (as imapsync) both leave them on the source.
 */
export const HEADERLESS = new Set([
  sha256(corpusMessage("no-message-id-1.eml")),
  sha256(corpusMessage("no-message-id-2.eml")),
]);
