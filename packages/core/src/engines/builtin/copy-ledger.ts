import type { ImapFlow } from "imapflow";
import type { FolderPlan } from "./folder-plan.ts";
import type { FolderSyncContext } from "./folder-sync-context.ts";
import type { SyncStateChannel } from "./state-channel.ts";
import type { MailboxStamp } from "./sync-state.ts";
import { selectionKey, toRuns } from "./sync-state.ts";

/** The figures of an opened (SELECT/EXAMINE) or STATUSed mailbox that a stamp is made of. */
export interface MailboxFigures {
  uidValidity?: bigint | undefined;
  uidNext?: number | undefined;
  highestModseq?: bigint | undefined;
  /** `exists` for an opened mailbox, `messages` for STATUS. */
  messages?: number | undefined;
}

/** A stamp from a mailbox's figures; undefined when the server left out UIDVALIDITY or UIDNEXT. */
export function stampOf(figures: MailboxFigures): MailboxStamp | undefined {
  if (figures.uidValidity === undefined || figures.uidNext === undefined || figures.messages === undefined) {
    return undefined;
  }
  return {
    uidValidity: figures.uidValidity.toString(),
    uidNext: figures.uidNext,
    highestModseq: figures.highestModseq === undefined ? null : figures.highestModseq.toString(),
    messages: figures.messages,
  };
}

/** One STATUS with what a stamp needs (HIGHESTMODSEQ only where the server has CONDSTORE). */
export async function readStamp(client: ImapFlow, path: string): Promise<MailboxStamp | undefined> {
  const status = await client.status(path, {
    messages: true,
    uidNext: true,
    uidValidity: true,
    ...(client.capabilities.has("CONDSTORE") ? { highestModseq: true } : {}),
  });
  return status ? stampOf(status) : undefined;
}

/**
 * What one pass over a folder knows of the destination folder: which destination message is the copy
 * of which source message, and every destination UID known to be there. Filled by the comparison (a
 * copy found), the copy pipeline (APPENDUID) and the deletions, then turned into the folder's state.
 */
export class CopyLedger {
  /** Source UID → destination UID. */
  readonly copies: Map<number, number>;
  /** Destination UIDs known to be in the folder. */
  readonly destinationUids: Set<number>;
  /** A copy whose destination UID the server did not say (no UIDPLUS): no state can be kept. */
  uidless = false;

  constructor(
    /** The destination folder's UIDVALIDITY and UIDNEXT when the pass opened it. */
    readonly destinationOpened: { uidValidity: string; uidNext: number },
    destinationUids: Iterable<number>,
    copies: Map<number, number> = new Map(),
  ) {
    this.destinationUids = new Set(destinationUids);
    this.copies = copies;
  }

  found(sourceUid: number, destinationUid: number): void {
    this.copies.set(sourceUid, destinationUid);
  }

  copied(sourceUid: number, destinationUid: number | undefined): void {
    if (destinationUid === undefined) {
      this.uidless = true;
      return;
    }
    this.copies.set(sourceUid, destinationUid);
    this.destinationUids.add(destinationUid);
  }

  deleted(destinationUids: readonly number[]): void {
    const gone = new Set(destinationUids);
    for (const uid of gone) this.destinationUids.delete(uid);
    for (const [source, destination] of this.copies) {
      if (gone.has(destination)) this.copies.delete(source);
    }
  }
}

/** A clean pass over a folder: where the source stood when it was read, and what the pass knows. */
export interface FolderPassResult {
  source: MailboxStamp;
  ledger: CopyLedger;
}

/**
 * Reports the folder's new state after a clean pass, or that it has none. The destination's stamp is
 * taken now, after the pass's own appends, flag changes and deletions, and only kept when it agrees
 * with what the pass knows: as many messages as known UIDs and no UID handed out that the pass did not
 * see. Anything else (someone else wrote to the folder meanwhile) leaves the folder without state, so
 * its next pass compares in full rather than trust a guess.
 */
export async function recordFolderState(
  ctx: FolderSyncContext,
  channel: SyncStateChannel,
  plan: FolderPlan,
  result: FolderPassResult | undefined,
): Promise<void> {
  const forget = () =>
    channel.report({
      kind: "forget",
      sourceFolder: plan.source.path,
      destinationFolder: plan.destinationPath,
    });
  if (!result || result.ledger.uidless) {
    forget();
    return;
  }
  const { ledger, source } = result;
  const destination = await readStamp(ctx.destination, plan.destinationPath).catch(() => undefined);
  let highestKnown = 0;
  for (const uid of ledger.destinationUids) highestKnown = Math.max(highestKnown, uid);
  const expectedUidNext = Math.max(ledger.destinationOpened.uidNext, highestKnown + 1);
  if (
    !destination ||
    destination.uidValidity !== ledger.destinationOpened.uidValidity ||
    destination.messages !== ledger.destinationUids.size ||
    destination.uidNext !== expectedUidNext
  ) {
    forget();
    return;
  }
  // Copies of source messages that arrived after the source was stamped are not in the stamp's range:
  // their next pass sees them as new, and finds these copies among the unclaimed ones.
  const copies = new Map<number, number>();
  for (const [sourceUid, destinationUid] of ledger.copies) {
    if (sourceUid < source.uidNext && ledger.destinationUids.has(destinationUid)) {
      copies.set(sourceUid, destinationUid);
    }
  }
  const claimed = new Set(copies.values());
  const unclaimed = [...ledger.destinationUids].filter((uid) => !claimed.has(uid)).sort((a, b) => a - b);
  channel.report({
    kind: "folder",
    state: {
      sourceFolder: plan.source.path,
      destinationFolder: plan.destinationPath,
      selection: selectionKey(ctx.session.args),
      source,
      destination,
      copies: toRuns(copies),
      unclaimed,
    },
  });
}
