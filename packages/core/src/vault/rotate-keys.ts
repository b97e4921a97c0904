import type { Database } from "@imapferry/db";
import type { Kysely } from "kysely";
import type { Logger } from "../context.ts";
import type { KeyedVault } from "./vault.ts";

export interface RotateKeysOptions {
  /**
   * Rows re-encrypted per transaction: small enough that no lock is held for long.
   * @defaultValue 200
   */
  batchSize?: number;
}

export interface RotateKeysResult {
  /** Credentials (not rows) re-encrypted under the current key. */
  reencrypted: number;
  /** Jobs rows looked at. */
  rowsScanned: number;
  /** The key ids still used by some stored value after the run (normally just the current one). */
  keyIdsInUse: string[];
}

/**
 * Re-encrypts every stored credential (jobs.source_secret / dest_secret / source_oauth2 / dest_oauth2,
 * servers.admin_secret) under
 * `vault.currentKeyId`.
 * `vault` must hold the new key as current and the old keys for decryption. Works in batches of rows by
 * id; each update only applies if the row still holds the value that was read, so a concurrent write is
 * never overwritten (the row is picked up again on the next pass). Safe to rerun, and safe to run while
 * the service is up: both keys decrypt throughout.
 * A value that cannot be decrypted stops the run with the vault's CONFIG error (naming the row's key id,
 * never the value); the rows done so far stay done.
 */
export async function rotateKeys(
  ctx: { db: Kysely<Database>; vault: KeyedVault; log: Logger },
  options: RotateKeysOptions = {},
): Promise<RotateKeysResult> {
  const { db, vault, log } = ctx;
  const batchSize = options.batchSize ?? 200;
  const currentPrefix = `v1:${vault.currentKeyId}:`;
  // "_" is a LIKE wildcard and may appear in key ids.
  const likeCurrent = `${currentPrefix.replaceAll("_", "\\_")}%`;
  let reencrypted = 0;
  let rowsScanned = 0;
  /** Null (a job that logs in with its server's admin credentials) stays null. */
  function reencrypt(stored: string | null): string | null {
    if (stored === null || stored.startsWith(currentPrefix)) return stored;
    return vault.encrypt(vault.decrypt(stored));
  }

  // Servers' admin passwords: few rows, one compare-and-set update each.
  const servers = await db
    .selectFrom("servers")
    .select(["id", "admin_secret"])
    .where("admin_secret", "not like", likeCurrent)
    .execute();
  for (const server of servers) {
    const next = reencrypt(server.admin_secret);
    const result = await db
      .updateTable("servers")
      .set({ admin_secret: next })
      .where("id", "=", server.id)
      .where("admin_secret", "=", server.admin_secret)
      .executeTakeFirst();
    if (result.numUpdatedRows === 1n) reencrypted++;
  }

  // Passes repeat only while concurrent writes made some update miss; each pass is a full keyset scan.
  for (let pass = 0; pass < 5; pass++) {
    let lastId = 0;
    let missed = 0;
    for (;;) {
      const rows = await db
        .selectFrom("jobs")
        .select(["id", "source_secret", "dest_secret", "source_oauth2", "dest_oauth2"])
        .where("id", ">", lastId)
        .where((eb) =>
          eb.or([
            eb("source_secret", "not like", likeCurrent),
            eb("dest_secret", "not like", likeCurrent),
            eb("source_oauth2", "not like", likeCurrent),
            eb("dest_oauth2", "not like", likeCurrent),
          ]),
        )
        .orderBy("id")
        .limit(batchSize)
        .execute();
      if (rows.length === 0) break;
      rowsScanned += rows.length;
      lastId = rows[rows.length - 1]?.id ?? lastId;

      const updates = rows.map(function reencryptRow(row) {
        const source = reencrypt(row.source_secret);
        const dest = reencrypt(row.dest_secret);
        // Delegated OAuth2 grants (refresh tokens) are credentials too.
        const sourceOAuth2 = reencrypt(row.source_oauth2);
        const destOAuth2 = reencrypt(row.dest_oauth2);
        const count =
          Number(source !== row.source_secret) +
          Number(dest !== row.dest_secret) +
          Number(sourceOAuth2 !== row.source_oauth2) +
          Number(destOAuth2 !== row.dest_oauth2);
        return { row, source, dest, sourceOAuth2, destOAuth2, count };
      });

      await db.transaction().execute(async function applyBatch(trx) {
        for (const u of updates) {
          const result = await trx
            .updateTable("jobs")
            .set({
              source_secret: u.source,
              dest_secret: u.dest,
              source_oauth2: u.sourceOAuth2,
              dest_oauth2: u.destOAuth2,
            })
            .where("id", "=", u.row.id)
            .where("source_secret", "is not distinct from", u.row.source_secret)
            .where("dest_secret", "is not distinct from", u.row.dest_secret)
            .where("source_oauth2", "is not distinct from", u.row.source_oauth2)
            .where("dest_oauth2", "is not distinct from", u.row.dest_oauth2)
            .executeTakeFirst();
          if (result.numUpdatedRows === 1n) reencrypted += u.count;
          else missed++;
        }
      });
      log.info(`Key rotation: re-encrypted credentials of ${rows.length} jobs up to id ${lastId}.`, {
        keyId: vault.currentKeyId,
      });
    }
    if (missed === 0) break;
  }

  const inUse = await db
    .selectFrom("jobs")
    .select((eb) => eb.fn<string>("split_part", ["source_secret", eb.val(":"), eb.val(2)]).as("key_id"))
    .union(
      db
        .selectFrom("jobs")
        .select((eb) => eb.fn<string>("split_part", ["dest_secret", eb.val(":"), eb.val(2)]).as("key_id")),
    )
    .union(
      db
        .selectFrom("jobs")
        .select((eb) => eb.fn<string>("split_part", ["source_oauth2", eb.val(":"), eb.val(2)]).as("key_id")),
    )
    .union(
      db
        .selectFrom("jobs")
        .select((eb) => eb.fn<string>("split_part", ["dest_oauth2", eb.val(":"), eb.val(2)]).as("key_id")),
    )
    .union(
      db
        .selectFrom("servers")
        .select((eb) => eb.fn<string>("split_part", ["admin_secret", eb.val(":"), eb.val(2)]).as("key_id")),
    )
    .execute();
  // A null secret (a job without its own password, a server without admin credentials) uses no key.
  const keyIdsInUse = inUse.flatMap((r) => (r.key_id === null ? [] : [r.key_id])).sort();
  log.info(
    `Key rotation finished: ${reencrypted} credentials re-encrypted under key ${vault.currentKeyId}.`,
    {
      keyId: vault.currentKeyId,
      keyIdsInUse,
    },
  );
  return { reencrypted, rowsScanned, keyIdsInUse };
}
