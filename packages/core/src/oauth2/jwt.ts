import { createSign } from "node:crypto";

function base64UrlJson(value: object): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

/**
 * A compact RS256 JWT (RFC 7519) signed with node's crypto: the one signature Google's JWT-bearer grant
 * needs does not justify a JOSE dependency. Throws when the key is not a usable RSA private key.
 */
export function signRs256Jwt(claims: Record<string, unknown>, privateKeyPem: string, keyId?: string): string {
  const header = { alg: "RS256", typ: "JWT", ...(keyId ? { kid: keyId } : {}) };
  const input = `${base64UrlJson(header)}.${base64UrlJson(claims)}`;
  const signature = createSign("RSA-SHA256").update(input).sign(privateKeyPem);
  return `${input}.${signature.toString("base64url")}`;
}
