import type { TestDatabase } from "@imapferry/db/testing";
import { createTestDatabase } from "@imapferry/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../context.ts";
import { rotateKeys } from "./rotate-keys.ts";
import { createVault, generateSecretKey } from "./vault.ts";

describe("rotateKeys", () => {
  let database: TestDatabase;
  const oldKey = generateSecretKey();
  const newKey = generateSecretKey();
  const oldVault = createVault({ keys: { old: oldKey }, currentKeyId: "old" });
  const bothVault = createVault({ keys: { old: oldKey, new_1: newKey }, currentKeyId: "new_1" });

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it("re-encrypts every stored credential under the new key, in batches, and the passwords stay the same", async () => {
    const { db } = database;
    const server = await db
      .insertInto("servers")
      .values({ name: "s", host: "127.0.0.1", port: 143, security: "none", source_host_limit: null })
      .returning("id")
      .executeTakeFirstOrThrow();
    const jobs = Array.from({ length: 7 }, (_, i) => ({
      name: `job ${i}`,
      source_server_id: server.id,
      source_email: `src${i}@example.com`,
      // One row already half-rotated: only the old half must be touched.
      source_secret: (i === 3 ? bothVault : oldVault).encrypt(`source-pw-${i}`),
      dest_server_id: server.id,
      dest_email: `dst${i}@example.com`,
      dest_secret: oldVault.encrypt(`dest-pw-${i}`),
      dry_run: false,
      options: {},
    }));
    await db.insertInto("jobs").values(jobs).execute();

    const result = await rotateKeys({ db, vault: bothVault, log: silentLogger }, { batchSize: 3 });
    expect(result.reencrypted).toBe(13);
    expect(result.keyIdsInUse).toEqual(["new_1"]);

    const rows = await db
      .selectFrom("jobs")
      .select(["name", "source_secret", "dest_secret"])
      .orderBy("id")
      .execute();
    const newOnly = createVault({ keys: { new_1: newKey }, currentKeyId: "new_1" });
    rows.forEach((row, i) => {
      expect(row.source_secret?.startsWith("v1:new_1:")).toBe(true);
      expect(newOnly.decrypt(row.source_secret ?? "")).toBe(`source-pw-${i}`);
      expect(newOnly.decrypt(row.dest_secret ?? "")).toBe(`dest-pw-${i}`);
    });

    // A second run has nothing to do.
    const again = await rotateKeys({ db, vault: bothVault, log: silentLogger });
    expect(again.reencrypted).toBe(0);
  });

  it("stops with a clear CONFIG error when a stored value cannot be decrypted, leaving it untouched", async () => {
    const { db } = database;
    const stranger = createVault({ keys: { gone: generateSecretKey() }, currentKeyId: "gone" });
    const server = await db.selectFrom("servers").select("id").executeTakeFirstOrThrow();
    const row = await db
      .insertInto("jobs")
      .values({
        name: "orphan",
        source_server_id: server.id,
        source_email: "x@example.com",
        source_secret: stranger.encrypt("secret-orphan"),
        dest_server_id: server.id,
        dest_email: "y@example.com",
        dest_secret: stranger.encrypt("secret-orphan"),
        dry_run: false,
        options: {},
      })
      .returning(["id", "source_secret"])
      .executeTakeFirstOrThrow();
    const error = await rotateKeys({ db, vault: bothVault, log: silentLogger }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "CONFIG" });
    expect(String((error as Error).message)).toContain('"gone"');
    expect(String((error as Error).message)).not.toContain("secret-orphan");
    const after = await db
      .selectFrom("jobs")
      .select("source_secret")
      .where("id", "=", row.id)
      .executeTakeFirstOrThrow();
    expect(after.source_secret).toBe(row.source_secret);
  });
});
