import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { KeyedVault, ServiceContext } from "@imapferry/core";
import {
  createJob,
  createServer,
  createVault,
  generateSecretKey,
  keyFilePath,
  keyIdOf,
  loadOrCreateKeyFile,
  silentLogger,
  systemClock,
} from "@imapferry/core";
import type { TestDatabase } from "@imapferry/db/testing";
import { createTestDatabase } from "@imapferry/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./support/cli-process.ts";

/*
 * `imapferry keys rotate` as an operator runs it: the built CLI as a child process against a test
 * database holding jobs whose credentials were stored by the core services.
 */

interface StoredSecrets {
  id: number;
  source_secret: string;
  dest_secret: string;
}

/** Three jobs, six credentials, each password distinct and easy to spot in the output. */
const PASSWORDS = [1, 2, 3].map((n) => ({
  source: `Source-pw-${n}-ünï-Rotate`,
  dest: `Dest-pw-${n}-zebra-Rotate`,
}));
const ALL_PASSWORDS = PASSWORDS.flatMap((p) => [p.source, p.dest]);

describe("imapferry keys rotate", () => {
  let database: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), "imapferry-keys-"));
    env = {
      DATABASE_URL: database.connectionString,
      IMAPFERRY_DATA_DIR: dataDir,
      IMAPFERRY_ENGINE: "builtin",
    };

    // The embedded default: no IMAPFERRY_SECRET_KEY, so the key file in the data directory holds the key.
    const ctx: ServiceContext = {
      db: database.db,
      pool: database.pool,
      vault: createVault(await loadOrCreateKeyFile(dataDir, silentLogger)),
      log: silentLogger,
      clock: systemClock,
    };
    const source = await createServer(ctx, {
      name: "old",
      host: "imap.old.example",
      port: 993,
      security: "tls",
    });
    const destination = await createServer(ctx, {
      name: "new",
      host: "imap.new.example",
      port: 993,
      security: "tls",
    });
    for (const [i, passwords] of PASSWORDS.entries()) {
      await createJob(ctx, {
        sourceServerId: source.id,
        sourceEmail: `user${i}@old.example`,
        sourcePassword: passwords.source,
        destServerId: destination.id,
        destEmail: `user${i}@new.example`,
        destPassword: passwords.dest,
        dryRun: false,
      });
    }
  });

  afterAll(async () => {
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function storedSecrets(): Promise<StoredSecrets[]> {
    const rows = await database.db
      .selectFrom("jobs")
      .select(["id", "source_secret", "dest_secret"])
      .orderBy("id")
      .execute();
    // Every job here carries its own passwords (none leans on a server's admin credentials).
    return rows.map((r) => ({
      id: r.id,
      source_secret: r.source_secret ?? "",
      dest_secret: r.dest_secret ?? "",
    }));
  }

  function keyIdsIn(rows: StoredSecrets[], vault: KeyedVault): (string | null)[] {
    return rows.flatMap((row) => [vault.keyIdOf(row.source_secret), vault.keyIdOf(row.dest_secret)]);
  }

  function decrypted(rows: StoredSecrets[], vault: KeyedVault): string[] {
    return rows.flatMap((row) => [vault.decrypt(row.source_secret), vault.decrypt(row.dest_secret)]);
  }

  async function rotate(
    extraEnv: Record<string, string> = {},
  ): Promise<{ code: number | null; output: string }> {
    const cli = runCli(["keys", "rotate"], { ...env, ...extraEnv });
    const code = await cli.exited;
    return { code, output: cli.output() };
  }

  it("with the key file, adds a new current key to it and re-encrypts every credential under that key", async () => {
    const before = await storedSecrets();
    const fileBefore = await loadOrCreateKeyFile(dataDir, silentLogger);
    const oldKeyId = fileBefore.currentKeyId;
    const oldVault = createVault(fileBefore);
    expect(keyIdsIn(before, oldVault)).toEqual(Array(6).fill(oldKeyId));

    const { code, output } = await rotate();

    expect(code, output).toBe(0);
    const fileAfter = await loadOrCreateKeyFile(dataDir, silentLogger);
    const newKeyId = fileAfter.currentKeyId;
    expect(newKeyId).not.toBe(oldKeyId);
    // The old key stays in the file, so processes still running with it keep decrypting.
    expect(Object.keys(fileAfter.keys).sort()).toEqual([oldKeyId, newKeyId].sort());
    expect(fileAfter.keys[oldKeyId]).toEqual(fileBefore.keys[oldKeyId]);
    expect(output).toContain(
      `Re-encrypted 6 credentials under key ${newKeyId}. Keys still in use: ${newKeyId}.`,
    );

    const after = await storedSecrets();
    const newVault = createVault(fileAfter);
    expect(after.map((row) => row.id)).toEqual(before.map((row) => row.id));
    expect(keyIdsIn(after, newVault)).toEqual(Array(6).fill(newKeyId));
    for (const [i, row] of after.entries()) {
      expect(row.source_secret).not.toBe(before[i]?.source_secret);
      expect(row.dest_secret).not.toBe(before[i]?.dest_secret);
    }
    expect(decrypted(after, newVault)).toEqual(ALL_PASSWORDS);
    // The new key alone decrypts them: the old one is no longer needed by any stored value.
    expect(
      decrypted(
        after,
        createVault({ keys: { [newKeyId]: fileAfter.keys[newKeyId] as Buffer }, currentKeyId: newKeyId }),
      ),
    ).toEqual(ALL_PASSWORDS);
    for (const password of ALL_PASSWORDS) expect(output).not.toContain(password);
  });

  it("with IMAPFERRY_SECRET_KEY=new,old, re-encrypts under the first key and leaves the key file alone", async () => {
    const file = await loadOrCreateKeyFile(dataDir, silentLogger);
    const fileText = await readFile(keyFilePath(dataDir), "utf8");
    const oldKey = file.keys[file.currentKeyId] as Buffer;
    const newKey = generateSecretKey();
    const before = await storedSecrets();

    const { code, output } = await rotate({
      IMAPFERRY_SECRET_KEY: `${newKey.toString("base64")},${oldKey.toString("base64")}`,
    });

    expect(code, output).toBe(0);
    const newKeyId = keyIdOf(newKey);
    expect(output).toContain(
      `Re-encrypted 6 credentials under key ${newKeyId}. Keys still in use: ${newKeyId}.`,
    );
    expect(await readFile(keyFilePath(dataDir), "utf8")).toBe(fileText);
    const after = await storedSecrets();
    const newVault = createVault({ keys: { [newKeyId]: newKey }, currentKeyId: newKeyId });
    expect(keyIdsIn(after, newVault)).toEqual(Array(6).fill(newKeyId));
    expect(after.map((row) => row.source_secret)).not.toEqual(before.map((row) => row.source_secret));
    expect(decrypted(after, newVault)).toEqual(ALL_PASSWORDS);
    for (const secret of [...ALL_PASSWORDS, newKey.toString("base64"), oldKey.toString("base64")]) {
      expect(output).not.toContain(secret);
    }
  });
});
