import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  DataDirectoryError,
  findRunningEmbeddedDatabase,
  migrateToLatest,
  openDatabase,
  startEmbeddedDatabase,
} from "../src/index.ts";

describe("the embedded default database", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("starts, migrates, stops, and keeps its data across a restart", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "imapferry-embedded-"));
    dirs.push(dataDir);

    expect(await findRunningEmbeddedDatabase(dataDir)).toBeNull();
    const first = await startEmbeddedDatabase({ dataDir });
    // Other commands of the same data directory find it and join it.
    expect(await findRunningEmbeddedDatabase(dataDir)).toEqual({
      connectionString: first.connectionString,
      port: first.port,
    });
    const handle = openDatabase(first.connectionString);
    try {
      await migrateToLatest(handle);
      await handle.db
        .insertInto("servers")
        .values({
          name: "kept",
          host: "imap.example.com",
          port: 993,
          security: "tls",
          source_host_limit: null,
        })
        .execute();
    } finally {
      await handle.close();
      await first.stop();
    }
    expect(await findRunningEmbeddedDatabase(dataDir)).toBeNull();
    // The password file must not be readable by anyone else.
    expect((await stat(path.join(dataDir, "postgres-password"))).mode & 0o077).toBe(0);

    const second = await startEmbeddedDatabase({ dataDir });
    const again = openDatabase(second.connectionString);
    try {
      const rows = await again.db.selectFrom("servers").select(["name", "host"]).execute();
      expect(rows).toEqual([{ name: "kept", host: "imap.example.com" }]);
      expect((await migrateToLatest(again)).applied).toEqual([]);
    } finally {
      await again.close();
      await second.stop();
    }
  });

  it("says which data directory is not writable", async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), "imapferry-notdir-")), "a-file");
    dirs.push(path.dirname(file));
    await writeFile(file, "not a directory");
    const attempt = startEmbeddedDatabase({ dataDir: path.join(file, "data") });
    await expect(attempt).rejects.toBeInstanceOf(DataDirectoryError);
    await expect(attempt).rejects.toThrow(/data directory .*a-file\/data is not writable/);
  });
});

describe("the embedded database after a crash", () => {
  it("restarts when the previous PostgreSQL outlived its process", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "imapferry-orphan-"));
    try {
      await startEmbeddedDatabase({ dataDir });
      // Not stopped: as if imapferry had been killed with SIGKILL, leaving PostgreSQL running.
      const restarted = await startEmbeddedDatabase({ dataDir });
      const handle = openDatabase(restarted.connectionString);
      try {
        expect((await handle.pool.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
      } finally {
        await handle.close();
        await restarted.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
