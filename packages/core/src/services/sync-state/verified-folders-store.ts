import type { Database } from "@imapferry/db";
import type { Kysely } from "kysely";
import type { FolderProof, FolderProofs } from "../../engines/verification/folder-proof.ts";
import { parseFolderProof } from "../../engines/verification/folder-proof.ts";
import type { MailboxPair } from "./sync-state-store.ts";
import { FOLDER_PAIR_KEY, pairColumns } from "./sync-state-store.ts";

/**
 * The check's folder proofs of a mailbox pair (see engines/verification/folder-proof.ts): loaded before
 * the check, and what it recorded stored after it in one statement. Like the sync state, they are
 * checked against both servers before use, so a lost write only costs the next check a full read.
 */
export async function loadFolderProofs(
  db: Kysely<Database>,
  pair: MailboxPair,
): Promise<FolderProofs & { recorded: FolderProof[] }> {
  const key = pairColumns(pair);
  const rows = await db
    .selectFrom("verified_folders")
    .select(["source_folder", "dest_folder", "proof"])
    .where("source_server_id", "=", key.source_server_id)
    .where("source_login", "=", key.source_login)
    .where("dest_server_id", "=", key.dest_server_id)
    .where("dest_login", "=", key.dest_login)
    .execute();
  const stored = new Map<string, FolderProof>();
  for (const row of rows) {
    const proof = parseFolderProof(row.proof);
    if (proof) stored.set(JSON.stringify([row.source_folder, row.dest_folder]), proof);
  }
  const recorded: FolderProof[] = [];
  return {
    recorded,
    lookup: (sourceFolder, destinationFolder) =>
      stored.get(JSON.stringify([sourceFolder, destinationFolder])),
    record: (proof) => recorded.push(proof),
  };
}

export async function storeFolderProofs(
  db: Kysely<Database>,
  pair: MailboxPair,
  proofs: FolderProof[],
): Promise<void> {
  if (proofs.length === 0) return;
  const key = pairColumns(pair);
  await db
    .insertInto("verified_folders")
    .values(
      proofs.map((proof) => ({
        ...key,
        source_folder: proof.result.folder,
        dest_folder: proof.result.destinationFolder,
        proof: JSON.stringify(proof),
      })),
    )
    .onConflict((oc) =>
      oc
        .columns([...FOLDER_PAIR_KEY])
        .doUpdateSet((eb) => ({ proof: eb.ref("excluded.proof"), updated_at: new Date() })),
    )
    .execute();
}
