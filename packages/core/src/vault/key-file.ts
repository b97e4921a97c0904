import { randomBytes } from "node:crypto";
import { chmod, link, mkdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { Logger } from "../context.ts";
import { ImapferryError } from "../errors.ts";
import type { VaultKeys } from "./vault.ts";
import { generateSecretKey, keyIdOf, parseSecretKey } from "./vault.ts";

/** File name of the generated key file inside the data directory. */
export const KEY_FILE_NAME = "secret-keys.json";

const keyFileSchema = z.object({
  version: z.literal(1),
  current: z.string(),
  keys: z.record(z.string(), z.string()),
});
type KeyFileContent = z.infer<typeof keyFileSchema>;

export interface KeyFile extends VaultKeys {
  /** Absolute path of the key file. */
  path: string;
  /** True when this call generated the file. */
  created: boolean;
}

export function keyFilePath(dataDir: string): string {
  return path.resolve(dataDir, KEY_FILE_NAME);
}

function toKeys(content: KeyFileContent, file: string): VaultKeys {
  const keys: Record<string, Buffer> = {};
  for (const [id, value] of Object.entries(content.keys)) {
    keys[id] = parseSecretKey(value, `Key "${id}" in ${file}`);
  }
  if (!(content.current in keys)) {
    throw new ImapferryError(
      "CONFIG",
      `${file} names "${content.current}" as its current key but does not contain it.`,
    );
  }
  return { keys, currentKeyId: content.current };
}

function serialize(keys: VaultKeys): string {
  const content: KeyFileContent = {
    version: 1,
    current: keys.currentKeyId,
    keys: Object.fromEntries(Object.entries(keys.keys).map(([id, key]) => [id, key.toString("base64")])),
  };
  return `${JSON.stringify(content, null, 2)}\n`;
}

async function readKeyFile(file: string, log: Logger): Promise<VaultKeys> {
  const info = await stat(file);
  if ((info.mode & 0o077) !== 0) {
    log.warn(
      `The key file ${file} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); run \`chmod 600 ${file}\`.`,
      { path: file },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch {
    throw new ImapferryError("CONFIG", `The key file ${file} is not valid JSON. Restore it from a backup.`);
  }
  const result = keyFileSchema.safeParse(parsed);
  if (!result.success) {
    throw new ImapferryError(
      "CONFIG",
      `The key file ${file} does not have the expected shape ({ version: 1, current, keys }). Restore it from a backup.`,
    );
  }
  return toKeys(result.data, file);
}

/** Writes the whole file under a temporary name, 0600 from the first byte, then renames it into place. */
async function writeKeyFileAtomically(file: string, keys: VaultKeys): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(tmp, serialize(keys), { mode: 0o600, flag: "wx" });
  await chmod(tmp, 0o600); // the umask may have narrowed the mode further; never wider, but be exact
  await rename(tmp, file);
}

function isErrno(e: unknown, code: string): boolean {
  return typeof e === "object" && e !== null && "code" in e && (e as { code: unknown }).code === code;
}

/**
 * The embedded default's key source: reads `<dataDir>/secret-keys.json`, or generates it (mode 0600,
 * one random key) and logs that it did, so the operator knows to back it up. Several keys may live in
 * the file; the current one encrypts, all of them decrypt.
 */
export async function loadOrCreateKeyFile(dataDir: string, log: Logger): Promise<KeyFile> {
  const file = keyFilePath(dataDir);
  try {
    return { ...(await readKeyFile(file, log)), path: file, created: false };
  } catch (e: unknown) {
    if (isErrno(e, "ENOTDIR")) {
      throw new ImapferryError(
        "CONFIG",
        `Could not create the credential key file ${file}: part of the data directory path is a file, not a directory.`,
      );
    }
    if (!isErrno(e, "ENOENT")) throw e;
  }
  const key = generateSecretKey();
  const keys: VaultKeys = { keys: { [keyIdOf(key)]: key }, currentKeyId: keyIdOf(key) };
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(tmp, serialize(keys), { mode: 0o600, flag: "wx" });
  } catch (e: unknown) {
    const reason =
      isErrno(e, "EACCES") || isErrno(e, "EPERM")
        ? "permission denied"
        : isErrno(e, "EROFS")
          ? "read-only file system"
          : e instanceof Error
            ? e.message
            : String(e);
    throw new ImapferryError(
      "CONFIG",
      `Could not create the credential key file ${file} (${reason}). Make the data directory writable, or set IMAPFERRY_SECRET_KEY.`,
    );
  }
  try {
    await chmod(tmp, 0o600);
    // link() fails if the file appeared meanwhile (another process starting at the same moment): then
    // that process's key wins and we read it, so both encrypt with the same key.
    await link(tmp, file);
  } catch (e: unknown) {
    if (!isErrno(e, "EEXIST")) throw e;
    return { ...(await readKeyFile(file, log)), path: file, created: false };
  } finally {
    await unlink(tmp).catch(() => {});
  }
  log.info(
    `Generated a new credential encryption key in ${file} (mode 0600). Back this file up: without it the stored mailbox passwords cannot be decrypted. Set IMAPFERRY_SECRET_KEY to manage the key yourself.`,
    { path: file, keyId: keys.currentKeyId },
  );
  return { ...keys, path: file, created: true };
}

/**
 * Adds a freshly generated key to the key file and makes it current; the old keys stay so existing
 * values still decrypt until `rotateKeys` has re-encrypted them.
 */
export async function addKeyToKeyFile(dataDir: string, log: Logger): Promise<KeyFile> {
  const file = keyFilePath(dataDir);
  const existing = await readKeyFile(file, log);
  const key = generateSecretKey();
  const id = keyIdOf(key);
  const keys: VaultKeys = { keys: { ...existing.keys, [id]: key }, currentKeyId: id };
  await writeKeyFileAtomically(file, keys);
  log.info(`Added key ${id} to ${file} and made it the current key.`, { path: file, keyId: id });
  return { ...keys, path: file, created: false };
}

/**
 * Removes keys no stored value uses any more (after `rotateKeys`). The current key cannot be removed.
 */
export async function removeKeysFromKeyFile(
  dataDir: string,
  keyIds: string[],
  log: Logger,
): Promise<KeyFile> {
  const file = keyFilePath(dataDir);
  const existing = await readKeyFile(file, log);
  if (keyIds.includes(existing.currentKeyId)) {
    throw new ImapferryError(
      "CONFIG",
      `Key ${existing.currentKeyId} is the current key and cannot be removed.`,
    );
  }
  const keys: VaultKeys = {
    keys: Object.fromEntries(Object.entries(existing.keys).filter(([id]) => !keyIds.includes(id))),
    currentKeyId: existing.currentKeyId,
  };
  await writeKeyFileAtomically(file, keys);
  return { ...keys, path: file, created: false };
}
