import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { catchImapferryError } from "../../test/support/catch-imapferry-error.ts";
import type { Logger } from "../context.ts";
import { addKeyToKeyFile, keyFilePath, loadOrCreateKeyFile, removeKeysFromKeyFile } from "./key-file.ts";
import { createVault, generateSecretKey, keyIdOf, parseSecretKey } from "./vault.ts";

const PASSWORD = "correct horse battery staple ünïcødé";

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

describe("vault", () => {
  const k1 = generateSecretKey();
  const k2 = generateSecretKey();

  it("round-trips a password and stores it as v1:<keyId>:<iv>:<tag>:<ciphertext>", () => {
    const vault = createVault({ keys: { a: k1 }, currentKeyId: "a" });
    const stored = vault.encrypt(PASSWORD);
    expect(stored).toMatch(/^v1:a:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(stored).not.toContain(PASSWORD);
    const [, , iv, tag] = stored.split(":");
    expect(Buffer.from(iv ?? "", "base64")).toHaveLength(12);
    expect(Buffer.from(tag ?? "", "base64")).toHaveLength(16);
    expect(vault.decrypt(stored)).toBe(PASSWORD);
    expect(vault.keyIdOf(stored)).toBe("a");
  });

  it("uses a fresh IV for every value, so equal passwords do not look equal", () => {
    const vault = createVault({ keys: { a: k1 }, currentKeyId: "a" });
    const values = new Set(Array.from({ length: 50 }, () => vault.encrypt(PASSWORD)));
    expect(values.size).toBe(50);
    const ivs = new Set([...values].map((v) => v.split(":")[2]));
    expect(ivs.size).toBe(50);
  });

  it("round-trips the empty string", () => {
    const vault = createVault({ keys: { a: k1 }, currentKeyId: "a" });
    expect(vault.decrypt(vault.encrypt(""))).toBe("");
  });

  it("decrypts values of an older key once the new key is current", () => {
    const old = createVault({ keys: { a: k1 }, currentKeyId: "a" });
    const stored = old.encrypt(PASSWORD);
    const rotated = createVault({ keys: { a: k1, b: k2 }, currentKeyId: "b" });
    expect(rotated.decrypt(stored)).toBe(PASSWORD);
    expect(rotated.keyIdOf(rotated.encrypt(PASSWORD))).toBe("b");
  });

  it("refuses a value under an unknown key id with a CONFIG error naming the key, not the value", () => {
    const stored = createVault({ keys: { a: k1 }, currentKeyId: "a" }).encrypt(PASSWORD);
    const err = catchImapferryError(() =>
      createVault({ keys: { b: k2 }, currentKeyId: "b" }).decrypt(stored),
    );
    expect(err.code).toBe("CONFIG");
    expect(err.message).toContain('"a"');
    expect(err.message).not.toContain(PASSWORD);
    expect(err.message).not.toContain(stored);
  });

  it("refuses a value when the key with that id is the wrong key — never garbage", () => {
    const stored = createVault({ keys: { a: k1 }, currentKeyId: "a" }).encrypt(PASSWORD);
    const err = catchImapferryError(() =>
      createVault({ keys: { a: k2 }, currentKeyId: "a" }).decrypt(stored),
    );
    expect(err.code).toBe("CONFIG");
    expect(err.message).toMatch(/wrong key|altered/);
  });

  it("refuses a tampered ciphertext, IV, tag or key id", () => {
    const vault = createVault({ keys: { a: k1, b: k1 }, currentKeyId: "a" });
    const stored = vault.encrypt(PASSWORD);
    const parts = stored.split(":");
    function flip(b64: string): string {
      const buf = Buffer.from(b64, "base64");
      buf[0] = (buf[0] ?? 0) ^ 1;
      return buf.toString("base64");
    }
    for (const index of [2, 3, 4]) {
      const tampered = parts.map((p, i) => (i === index ? flip(p) : p)).join(":");
      expect(catchImapferryError(() => vault.decrypt(tampered)).code).toBe("CONFIG");
    }
    // Same key bytes under another id: the key id is authenticated, so relabelling fails too.
    const relabelled = ["v1", "b", ...parts.slice(2)].join(":");
    expect(catchImapferryError(() => vault.decrypt(relabelled)).code).toBe("CONFIG");
  });

  it("refuses values that are not in the vault format", () => {
    const vault = createVault({ keys: { a: k1 }, currentKeyId: "a" });
    for (const bad of ["", PASSWORD, "v1:a:xx", "v2:a:AAAA:AAAA:AAAA", "v1:a:AAAA:AAAA:AAAA"]) {
      const err = catchImapferryError(() => vault.decrypt(bad));
      expect(err.code).toBe("CONFIG");
      if (bad !== "") expect(err.message).not.toContain(bad);
    }
  });

  it("rejects a current key id that is not configured, and keys of the wrong length", () => {
    expect(catchImapferryError(() => createVault({ keys: { a: k1 }, currentKeyId: "b" })).code).toBe(
      "CONFIG",
    );
    expect(
      catchImapferryError(() => createVault({ keys: { a: Buffer.alloc(16) }, currentKeyId: "a" })).message,
    ).toMatch(/32 bytes/);
    expect(catchImapferryError(() => createVault({ keys: { "a:b": k1 }, currentKeyId: "a:b" })).code).toBe(
      "CONFIG",
    );
  });
});

describe("parseSecretKey", () => {
  it("accepts 32 bytes of base64 (standard or URL-safe, surrounding whitespace ignored)", () => {
    const key = generateSecretKey();
    expect(parseSecretKey(key.toString("base64"))).toEqual(key);
    expect(parseSecretKey(` ${key.toString("base64url")}\n`)).toEqual(key);
  });

  it("explains a wrong length without echoing the value", () => {
    const short = Buffer.alloc(16, 7).toString("base64");
    const err = catchImapferryError(() => parseSecretKey(short));
    expect(err.code).toBe("CONFIG");
    expect(err.message).toContain("IMAPFERRY_SECRET_KEY decodes to 16 bytes");
    expect(err.message).not.toContain(short);
  });

  it("explains a value that is not base64 or is empty", () => {
    expect(catchImapferryError(() => parseSecretKey("not base64!!")).message).toContain("is not base64");
    expect(catchImapferryError(() => parseSecretKey("  ")).message).toContain("is empty");
  });

  it("derives a stable key id from the key", () => {
    const key = generateSecretKey();
    expect(keyIdOf(key)).toBe(keyIdOf(Buffer.from(key)));
    expect(keyIdOf(key)).not.toBe(keyIdOf(generateSecretKey()));
    expect(keyIdOf(key)).toMatch(/^k[0-9a-f]{12}$/);
  });
});

describe("key file", () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "imapferry-vault-"));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("is generated once with mode 0600, says so in the log, and is reused afterwards", async () => {
    const log = recordingLogger();
    const nested = path.join(dataDir, "data");
    const first = await loadOrCreateKeyFile(nested, log);
    expect(first.created).toBe(true);
    expect((await stat(first.path)).mode & 0o777).toBe(0o600);
    expect(
      log.lines.some(
        (l) => l.startsWith("info Generated a new credential encryption key") && l.includes(first.path),
      ),
    ).toBe(true);
    const stored = createVault(first).encrypt(PASSWORD);

    const second = await loadOrCreateKeyFile(nested, log);
    expect(second.created).toBe(false);
    expect(second.currentKeyId).toBe(first.currentKeyId);
    expect(createVault(second).decrypt(stored)).toBe(PASSWORD);
    // The key itself never reaches the log.
    const keyB64 = first.keys[first.currentKeyId]?.toString("base64") ?? "";
    expect(log.lines.join("\n")).not.toContain(keyB64);
  });

  it.skipIf(process.getuid?.() === 0)("explains a data directory it cannot write to", async () => {
    const locked = path.join(dataDir, "locked");
    await mkdir(locked, { mode: 0o500 });
    await expect(loadOrCreateKeyFile(locked, recordingLogger())).rejects.toMatchObject({
      code: "CONFIG",
      message: expect.stringContaining("permission denied"),
    });
  });

  it("explains a data directory path it cannot create", async () => {
    const file = path.join(dataDir, "a-file");
    await writeFile(file, "");
    await expect(loadOrCreateKeyFile(path.join(file, "data"), recordingLogger())).rejects.toMatchObject({
      code: "CONFIG",
      message: expect.stringContaining("Could not create the credential key file"),
    });
  });

  it("two processes creating it at once end up with the same key", async () => {
    const [a, b] = await Promise.all([
      loadOrCreateKeyFile(dataDir, recordingLogger()),
      loadOrCreateKeyFile(dataDir, recordingLogger()),
    ]);
    expect(a.currentKeyId).toBe(b.currentKeyId);
  });

  it("holds several keys for rotation: a new key becomes current, the old one still decrypts", async () => {
    const log = recordingLogger();
    const first = await loadOrCreateKeyFile(dataDir, log);
    const stored = createVault(first).encrypt(PASSWORD);
    const rotated = await addKeyToKeyFile(dataDir, log);
    expect(rotated.currentKeyId).not.toBe(first.currentKeyId);
    expect(Object.keys(rotated.keys).sort()).toEqual([first.currentKeyId, rotated.currentKeyId].sort());
    expect((await stat(rotated.path)).mode & 0o777).toBe(0o600);
    const reloaded = await loadOrCreateKeyFile(dataDir, log);
    expect(reloaded.currentKeyId).toBe(rotated.currentKeyId);
    expect(createVault(reloaded).decrypt(stored)).toBe(PASSWORD);

    const pruned = await removeKeysFromKeyFile(dataDir, [first.currentKeyId], log);
    expect(Object.keys(pruned.keys)).toEqual([rotated.currentKeyId]);
    await expect(removeKeysFromKeyFile(dataDir, [rotated.currentKeyId], log)).rejects.toThrow(/current key/);
  });

  it("warns when the key file is readable by others and refuses a damaged one", async () => {
    const log = recordingLogger();
    const { path: file } = await loadOrCreateKeyFile(dataDir, log);
    await chmod(file, 0o644);
    await loadOrCreateKeyFile(dataDir, log);
    expect(log.lines.some((l) => l.startsWith("warn") && l.includes("chmod 600"))).toBe(true);

    await writeFile(keyFilePath(dataDir), "{ not json");
    await expect(loadOrCreateKeyFile(dataDir, log)).rejects.toMatchObject({ code: "CONFIG" });
    // A damaged file is never silently replaced by a new key: that would orphan every stored password.
    expect(await readFile(file, "utf8")).toBe("{ not json");
  });
});
