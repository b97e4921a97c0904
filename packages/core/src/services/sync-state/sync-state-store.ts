import type { Database } from "@imapferry/db";
import type { Kysely } from "kysely";
import type { FolderSyncState, StateUpdate } from "../../engines/builtin/sync-state.ts";
import { folderPairKey, parseFolderState, parseStateUpdate } from "../../engines/builtin/sync-state.ts";

/**
 * Where the built-in engine's incremental sync state lives: per mailbox pair (source server and login,
 * destination server and login, logins case-insensitive, the key under which a later job of the pair
 * supersedes an earlier one), so a rerun or a scheduled pass of the same mailboxes finds what the last
 * run left, and per folder pair.
 */
export interface MailboxPair {
  sourceServerId: number;
  sourceLogin: string;
  destServerId: number;
  destLogin: string;
}

/** The primary key of sync_folder_states and verified_folders: the mailbox pair, then the folder pair. */
export const FOLDER_PAIR_KEY = [
  "source_server_id",
  "source_login",
  "dest_server_id",
  "dest_login",
  "source_folder",
  "dest_folder",
] as const;

/** The pair's key columns, as sync_folder_states and verified_folders store them. */
export function pairColumns(pair: MailboxPair) {
  return {
    source_server_id: pair.sourceServerId,
    source_login: pair.sourceLogin.toLowerCase(),
    dest_server_id: pair.destServerId,
    dest_login: pair.destLogin.toLowerCase(),
  };
}

/** Every folder state stored for the pair, as the engine's channel carries it (one JSON line). */
export async function loadSyncState(db: Kysely<Database>, pair: MailboxPair): Promise<FolderSyncState[]> {
  const key = pairColumns(pair);
  const rows = await db
    .selectFrom("sync_folder_states")
    .select("state")
    .where("source_server_id", "=", key.source_server_id)
    .where("source_login", "=", key.source_login)
    .where("dest_server_id", "=", key.dest_server_id)
    .where("dest_login", "=", key.dest_login)
    .execute();
  return rows.flatMap((row) => {
    const state = parseFolderState(row.state);
    return state ? [state] : [];
  });
}

/** How often the engine's folder states are written while it runs, at most. */
const FLUSH_INTERVAL_MS = 1000;

export interface SyncStateWriter {
  /** Takes one line from the engine's state channel (unknown shapes are ignored). */
  add(update: unknown): void;
  /** Writes what is buffered and stops; failures are logged, never thrown (the state is advisory). */
  close(): Promise<void>;
}

/**
 * Stores the engine's folder states in batches: one statement per kind per second at most, whatever
 * the number of folders, so keeping state costs a copy nothing it could measure. A batch that cannot
 * be written is dropped with a warning: a stale state is checked against the servers on the next pass,
 * and at worst that folder is compared in full.
 */
export function createSyncStateWriter(options: {
  db: Kysely<Database>;
  pair: MailboxPair;
  jobId: number;
  onError: (error: unknown) => void;
}): SyncStateWriter {
  const key = pairColumns(options.pair);
  // Latest update per folder pair: a folder passed twice (after a reconnect) keeps its last word.
  let pending = new Map<string, StateUpdate>();
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  async function write(batch: StateUpdate[]): Promise<void> {
    const states = batch.flatMap((update) => (update.kind === "folder" ? [update.state] : []));
    const forgotten = batch.flatMap((update) => (update.kind === "forget" ? [update] : []));
    await options.db.transaction().execute(async (trx) => {
      if (forgotten.length > 0) {
        await trx
          .deleteFrom("sync_folder_states")
          .where("source_server_id", "=", key.source_server_id)
          .where("source_login", "=", key.source_login)
          .where("dest_server_id", "=", key.dest_server_id)
          .where("dest_login", "=", key.dest_login)
          .where((eb) =>
            eb.or(
              forgotten.map((f) =>
                eb.and([
                  eb("source_folder", "=", f.sourceFolder),
                  eb("dest_folder", "=", f.destinationFolder),
                ]),
              ),
            ),
          )
          .execute();
      }
      if (states.length > 0) {
        await trx
          .insertInto("sync_folder_states")
          .values(
            states.map((state) => ({
              ...key,
              source_folder: state.sourceFolder,
              dest_folder: state.destinationFolder,
              state: JSON.stringify(state),
              job_id: options.jobId,
            })),
          )
          .onConflict((oc) =>
            oc.columns([...FOLDER_PAIR_KEY]).doUpdateSet((eb) => ({
              state: eb.ref("excluded.state"),
              job_id: eb.ref("excluded.job_id"),
              updated_at: new Date(),
            })),
          )
          .execute();
      }
    });
  }

  function flush(): Promise<void> {
    timer = undefined;
    if (pending.size === 0) return writing;
    const batch = [...pending.values()];
    pending = new Map();
    writing = writing.then(() => write(batch).catch(options.onError));
    return writing;
  }

  return {
    add(line) {
      const update = parseStateUpdate(line);
      if (!update) return;
      const folder = update.kind === "folder" ? update.state : update;
      pending.set(folderPairKey(folder.sourceFolder, folder.destinationFolder), update);
      timer ??= setTimeout(flush, FLUSH_INTERVAL_MS);
    },
    async close() {
      clearTimeout(timer);
      await flush();
    },
  };
}
