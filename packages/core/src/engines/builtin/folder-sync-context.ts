import type { ImapFlow } from "imapflow";
import type { AppendConnection } from "./append-connection.ts";
import type { CopyLedger } from "./copy-ledger.ts";
import type { SyncSession } from "./sync-session.ts";

/**
 * What syncing a folder needs: the session, both connections and what is known of the destination.
 * A module of its own so the folder sync and the pipelines it calls do not import each other.
 */
export interface FolderSyncContext {
  session: SyncSession;
  source: ImapFlow;
  destination: ImapFlow;
  /** Unicode paths that exist on the destination; updated as folders are created. */
  destinationPaths: Set<string>;
  /** Unicode paths the destination user is subscribed to; updated as folders are subscribed. */
  subscribedPaths: Set<string>;
  destinationDelimiter: string;
  multiAppend: boolean;
  /** The pipelined LITERAL+ appender, when the destination offers LITERAL+ and MULTIAPPEND. */
  appender: AppendConnection | undefined;
  /**
   * Under --dry: identities (with counts) each destination path (Unicode) would have received. When
   * two source folders go to one destination folder (--f1f2, --automap), the real run skips in the
   * second what the first copied, so the dry run must too.
   */
  wouldCopy: Map<string, Map<string, number>>;
  /** The current folder pass's record of copies, for the folder's incremental state (see copy-ledger.ts). */
  ledger?: CopyLedger;
}
