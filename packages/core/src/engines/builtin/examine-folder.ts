import type { ImapFlow } from "imapflow";

/**
 * What a SELECT that came back empty-handed means: imapflow resolves `mailboxOpen` without a mailbox
 * when the connection closes while the command is in flight. The folder sync treats it as a lost
 * connection (reconnect and sync the folder again), not as a folder that cannot be selected.
 */
export const SELECT_CUT_SHORT = "the connection closed before the server answered the SELECT";

/** What EXAMINE tells of a folder, read at once (imapflow keeps updating its own mailbox object). */
export interface ExaminedFolder {
  exists: number;
  permanentFlags?: Set<string>;
  uidValidity: bigint;
  uidNext: number;
  highestModseq?: bigint;
}

/** Opens a folder read-only; a connection that closed mid-SELECT is an error, not an empty mailbox. */
export async function examine(client: ImapFlow, path: string): Promise<ExaminedFolder> {
  const mailbox = (await client.mailboxOpen(path, {
    readOnly: true,
  })) as ExaminedFolder | undefined | false;
  if (!mailbox || typeof mailbox.exists !== "number") {
    throw new Error(SELECT_CUT_SHORT);
  }
  return {
    exists: mailbox.exists,
    uidValidity: mailbox.uidValidity,
    uidNext: mailbox.uidNext,
    ...(mailbox.permanentFlags ? { permanentFlags: mailbox.permanentFlags } : {}),
    ...(mailbox.highestModseq !== undefined ? { highestModseq: mailbox.highestModseq } : {}),
  };
}
