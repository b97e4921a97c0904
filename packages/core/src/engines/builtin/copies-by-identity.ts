import type { ScannedMessage } from "./mailbox-scan.ts";
import { addedHeaderIdentity } from "./message-identity.ts";

/**
 * A folder's messages by identity, each handed out once: matching is count-aware, so a folder that
 * holds a message twice needs it twice on the other side, and each copy answers for one message only
 * (in UID order).
 */
export class CopiesByIdentity {
  private readonly byIdentity = new Map<string, ScannedMessage[]>();
  /** Messages whose identity an earlier message of the folder already has. */
  readonly duplicates: number;
  /** Copies not handed out yet. */
  left: number;

  constructor(messages: ScannedMessage[]) {
    let duplicates = 0;
    for (const message of messages) {
      const copies = this.byIdentity.get(message.identity);
      if (copies) {
        copies.push(message);
        duplicates += 1;
      } else {
        this.byIdentity.set(message.identity, [message]);
      }
    }
    this.duplicates = duplicates;
    this.left = messages.length;
  }

  /** The next copy with this identity not handed out yet, if any. */
  take(identity: string): ScannedMessage | undefined {
    const copy = this.byIdentity.get(identity)?.shift();
    if (copy) this.left -= 1;
    return copy;
  }
}

/**
 * The identity a source message's copy has on the destination: its own, or imapsync's added
 * Message-Id's when --addheader puts one on a void message (one with neither Message-Id nor Received).
 */
export function copyIdentity(message: ScannedMessage, addHeader: boolean, skipSize: boolean): string {
  return addHeader && message.headerKey === undefined
    ? addedHeaderIdentity(message.uid, message.size, skipSize)
    : message.identity;
}

/**
 * Takes the destination copy of a source message, if there is one left. A void message copied
 * unchanged is found by content; one copied by an earlier run with --addheader under that header's
 * identity, so switching --addheader off never copies it again.
 */
export function takeCopy(
  copies: CopiesByIdentity,
  message: ScannedMessage,
  addHeader: boolean,
  skipSize: boolean,
): ScannedMessage | undefined {
  const identity = copyIdentity(message, addHeader, skipSize);
  const copy = copies.take(identity);
  if (copy || message.headerKey !== undefined || addHeader) return copy;
  return copies.take(addedHeaderIdentity(message.uid, message.size, skipSize));
}
