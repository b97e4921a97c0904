import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/**
 * scrypt parameters: N=2^15, r=8, p=1 costs ~50 ms and 32 MiB per hash, which makes offline guessing
 * expensive while a login stays quick. They are stored with each hash so they can be raised later
 * without invalidating existing passwords.
 */
const COST = 2 ** 15;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const FORMAT = "scrypt";

function deriveKey(password: string, salt: Buffer, cost: number, blockSize: number, parallelism: number) {
  return new Promise<Buffer>(function runScrypt(resolve, reject) {
    scrypt(
      password.normalize("NFC"),
      salt,
      KEY_BYTES,
      // maxmem must exceed 128 * N * r bytes, or node refuses the parameters.
      { N: cost, r: blockSize, p: parallelism, maxmem: 256 * cost * blockSize },
      function scryptDone(error, key) {
        if (error) reject(error);
        else resolve(key);
      },
    );
  });
}

/** "scrypt$N$r$p$<salt base64>$<key base64>", with a fresh random salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await deriveKey(password, salt, COST, BLOCK_SIZE, PARALLELISM);
  return [FORMAT, COST, BLOCK_SIZE, PARALLELISM, salt.toString("base64"), key.toString("base64")].join("$");
}

/** Compares in constant time; a malformed stored hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== FORMAT) return false;
  const [, costText, blockText, parallelText, saltText, keyText] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const cost = Number(costText);
  const blockSize = Number(blockText);
  const parallelism = Number(parallelText);
  if (![cost, blockSize, parallelism].every((n) => Number.isInteger(n) && n > 0)) return false;
  const expected = Buffer.from(keyText, "base64");
  const actual = await deriveKey(password, Buffer.from(saltText, "base64"), cost, blockSize, parallelism);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * A hash of a random password, verified against when the user does not exist, so that "no such user"
 * takes as long as "wrong password" and login timing does not reveal user names.
 */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(randomBytes(16).toString("hex"));
  return decoyHash;
}

/** 24 URL-safe characters (144 bits): what a generated admin or reset password looks like. */
export function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}
