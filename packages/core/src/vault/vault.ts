import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import type { Vault } from "../context.ts";
import { ImapferryError } from "../errors.ts";

/** Stored values start with this tag; a future format gets a new one and both stay readable. */
const FORMAT = "v1";
const KEY_BYTES = 32;
/** 96 bits: the IV length GCM is specified for (longer IVs are hashed down, shorter ones are weaker). */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export interface VaultKeys {
  /** Every key that may still decrypt stored values, by key id. */
  keys: Record<string, Buffer>;
  /** The key id new values are encrypted with; must be in `keys`. */
  currentKeyId: string;
}

/** A vault that can also say which key encrypted a stored value (used by key rotation). */
export interface KeyedVault extends Vault {
  /** The key id written into a stored value, or null when the value is not in the vault format. */
  keyIdOf(stored: string): string | null;
  /** Every key id this vault can decrypt. */
  readonly keyIds: readonly string[];
}

/**
 * Decodes a base64 secret key (the form IMAPFERRY_SECRET_KEY takes) into its 32 bytes.
 * The message never echoes the value: it is a secret even when it is malformed.
 */
export function parseSecretKey(base64: string, source = "IMAPFERRY_SECRET_KEY"): Buffer {
  const trimmed = base64.trim();
  if (trimmed === "") {
    throw new ImapferryError(
      "CONFIG",
      `${source} is empty. Set it to 32 random bytes in base64, e.g. the output of \`openssl rand -base64 32\`.`,
    );
  }
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    throw new ImapferryError(
      "CONFIG",
      `${source} is not base64. Set it to 32 random bytes in base64, e.g. the output of \`openssl rand -base64 32\`.`,
    );
  }
  const key = Buffer.from(trimmed, trimmed.includes("-") || trimmed.includes("_") ? "base64url" : "base64");
  if (key.length !== KEY_BYTES) {
    throw new ImapferryError(
      "CONFIG",
      `${source} decodes to ${key.length} bytes; it must be exactly ${KEY_BYTES} (an AES-256 key). Generate one with \`openssl rand -base64 32\`.`,
    );
  }
  return key;
}

/** A fresh random 32-byte key. */
export function generateSecretKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/**
 * A stable id for a key, derived from the key itself, so the same IMAPFERRY_SECRET_KEY gets the same id
 * on every machine without anyone configuring one. 48 bits of a SHA-256 reveal nothing usable about the key.
 */
export function keyIdOf(key: Buffer): string {
  return `k${createHash("sha256").update("imapferry-key-id\0").update(key).digest("hex").slice(0, 12)}`;
}

function checkKeys({ keys, currentKeyId }: VaultKeys): Map<string, Buffer> {
  const map = new Map<string, Buffer>();
  for (const [id, key] of Object.entries(keys)) {
    if (!KEY_ID_PATTERN.test(id)) {
      throw new ImapferryError(
        "CONFIG",
        `Key id "${id.slice(0, 64)}" is not valid: use 1-64 letters, digits, "-" or "_".`,
      );
    }
    if (key.length !== KEY_BYTES) {
      throw new ImapferryError(
        "CONFIG",
        `Key "${id}" is ${key.length} bytes long; vault keys must be exactly ${KEY_BYTES} bytes (AES-256).`,
      );
    }
    map.set(id, Buffer.from(key));
  }
  if (!map.has(currentKeyId)) {
    throw new ImapferryError(
      "CONFIG",
      `The current key id "${currentKeyId}" is not among the configured keys (${[...map.keys()].join(", ") || "none"}).`,
    );
  }
  return map;
}

interface StoredParts {
  keyId: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

function splitStored(stored: string): StoredParts | null {
  const parts = stored.split(":");
  if (parts.length !== 5 || parts[0] !== FORMAT) return null;
  const [, keyId, iv, tag, ciphertext] = parts as [string, string, string, string, string];
  if (!KEY_ID_PATTERN.test(keyId)) return null;
  const ivBuf = Buffer.from(iv, "base64");
  const tagBuf = Buffer.from(tag, "base64");
  if (ivBuf.length !== IV_BYTES || tagBuf.length !== TAG_BYTES) return null;
  return { keyId, iv: ivBuf, tag: tagBuf, ciphertext: Buffer.from(ciphertext, "base64") };
}

/**
 * The credential vault: AES-256-GCM, a fresh random 96-bit IV per value, the 128-bit auth tag, and the
 * key id in the stored value so old values stay readable while keys rotate.
 * Stored form: `v1:<keyId>:<iv base64>:<tag base64>:<ciphertext base64>`.
 */
export function createVault(config: VaultKeys): KeyedVault {
  const keys = checkKeys(config);
  const currentKeyId = config.currentKeyId;
  const currentKey = keys.get(currentKeyId) as Buffer;

  function encrypt(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", currentKey, iv, { authTagLength: TAG_BYTES });
    // The key id is authenticated too: moving a value under another key id must fail, not decrypt.
    cipher.setAAD(Buffer.from(`${FORMAT}:${currentKeyId}`));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      FORMAT,
      currentKeyId,
      iv.toString("base64"),
      tag.toString("base64"),
      ciphertext.toString("base64"),
    ].join(":");
  }

  function decrypt(stored: string): string {
    const parts = splitStored(stored);
    if (!parts) {
      throw new ImapferryError(
        "CONFIG",
        "A stored credential is not in the vault format (v1:<key id>:…); it was damaged or written by something else. Re-enter the password.",
      );
    }
    const key = keys.get(parts.keyId);
    if (!key) {
      throw new ImapferryError(
        "CONFIG",
        `A stored credential was encrypted with key "${parts.keyId}", which this server does not have (it has ${[...keys.keys()].join(", ")}). Configure that key as well, or re-enter the password.`,
      );
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, parts.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(`${FORMAT}:${parts.keyId}`));
      decipher.setAuthTag(parts.tag);
      return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString("utf8");
    } catch {
      // GCM's tag check is the only thing that fails here; the cause carries nothing an operator can use.
      throw new ImapferryError(
        "CONFIG",
        `A stored credential failed its integrity check under key "${parts.keyId}": either the configured key with that id is the wrong key, or the stored value was altered. Check the key, or re-enter the password.`,
      );
    }
  }

  return {
    currentKeyId,
    keyIds: [...keys.keys()],
    encrypt,
    decrypt,
    keyIdOf(stored: string): string | null {
      return splitStored(stored)?.keyId ?? null;
    },
  };
}
