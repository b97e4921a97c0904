import { createPrivateKey } from "node:crypto";
import { ImapferryError } from "../errors.ts";
import type { ServiceAccountKey } from "./grants.ts";

function refuse(path: (string | number)[], message: string): never {
  throw new ImapferryError("BAD_INPUT", message, [{ path, message }]);
}

/**
 * Reads a service account's JSON key as the Google Cloud console downloads it, checking what signing
 * needs: type "service_account", a client_email, and an RSA private key that loads. Throws BAD_INPUT
 * naming the field (at `path`) and what is wrong with it; the key's text never appears in the sentence.
 */
export function parseServiceAccountKey(text: string, path: (string | number)[]): ServiceAccountKey {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    refuse(
      path,
      "The service account key is not JSON. Paste the whole key file the Google Cloud console downloaded (it starts with {).",
    );
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    refuse(path, "The service account key must be the JSON object of the key file.");
  }
  const key = json as Record<string, unknown>;
  if (key.type !== "service_account") {
    refuse(
      path,
      'The service account key has no "type": "service_account". Is this an OAuth client file instead of a service account key?',
    );
  }
  if (typeof key.client_email !== "string" || !/^[^\s@]+@[^\s@]+$/.test(key.client_email)) {
    refuse(path, 'The service account key has no valid "client_email".');
  }
  if (typeof key.private_key !== "string" || !key.private_key.includes("PRIVATE KEY")) {
    refuse(path, 'The service account key has no "private_key" in PEM form.');
  }
  try {
    const loaded = createPrivateKey(key.private_key);
    if (loaded.asymmetricKeyType !== "rsa") throw new Error("not RSA");
  } catch {
    refuse(
      path,
      'The service account key\'s "private_key" is not a readable RSA private key. Download a new key.',
    );
  }
  return {
    clientEmail: key.client_email,
    privateKey: key.private_key,
    ...(typeof key.private_key_id === "string" ? { privateKeyId: key.private_key_id } : {}),
  };
}
