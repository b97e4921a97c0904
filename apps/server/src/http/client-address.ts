import { isIP } from "node:net";
import { parseAddressRanges } from "@imapferry/core";

/**
 * Who a request comes from, for login throttling. `X-Forwarded-For` (and `X-Forwarded-Proto`) are
 * believed only from the proxies named in IMAPFERRY_TRUSTED_PROXIES: from anyone else they are a
 * header the client wrote itself. Behind trusted proxies the client is the rightmost address in the
 * chain that is not one of them (the leftmost entries can be forged by the client).
 */
export interface ClientAddressResolver {
  /** The client's address, given the socket's peer address and the request's headers. */
  address(peer: string, headers: Headers): string;
  /** Whether the client reached the first proxy (or us) over https. */
  secure(peer: string, headers: Headers, urlProtocol: string): boolean;
}

/** "::ffff:127.0.0.1" (an IPv4 peer on a dual-stack socket) is 127.0.0.1. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

export function createClientAddressResolver(trustedProxies: readonly string[]): ClientAddressResolver {
  const trusted = parseAddressRanges(trustedProxies);
  const isTrusted = (address: string) => {
    const plain = plainAddress(address);
    const family = isIP(plain);
    return family !== 0 && trusted.check(plain, family === 4 ? "ipv4" : "ipv6");
  };
  return {
    address(peer, headers) {
      const client = plainAddress(peer);
      if (!isTrusted(client)) return client;
      const chain = (headers.get("x-forwarded-for") ?? "")
        .split(",")
        .map((hop) => plainAddress(hop.trim()))
        .filter((hop) => hop !== "");
      for (let i = chain.length - 1; i >= 0; i--) {
        const hop = chain[i] ?? "";
        if (!isTrusted(hop)) return hop;
      }
      return chain[0] ?? client;
    },
    secure(peer, headers, urlProtocol) {
      if (urlProtocol === "https:") return true;
      return isTrusted(peer) && headers.get("x-forwarded-proto")?.split(",")[0]?.trim() === "https";
    },
  };
}
