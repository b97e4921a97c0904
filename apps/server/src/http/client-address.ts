import { BlockList, isIP } from "node:net";

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

/** Parses "127.0.0.1, 10.0.0.0/8, ::1" into a block list; throws on an entry that is neither. */
export function parseTrustedProxies(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", prefix] = entry.split("/");
    const family = isIP(address);
    if (family === 0) throw new Error(`"${entry}" is not an IP address or a CIDR range.`);
    const type = family === 4 ? "ipv4" : "ipv6";
    if (prefix === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const bits = Number(prefix);
    if (!/^\d+$/.test(prefix) || bits > (family === 4 ? 32 : 128)) {
      throw new Error(`"${entry}" has an invalid prefix length.`);
    }
    list.addSubnet(address, bits, type);
  }
  return list;
}

/** "::ffff:127.0.0.1" (an IPv4 peer on a dual-stack socket) is 127.0.0.1. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

export function createClientAddressResolver(trustedProxies: readonly string[]): ClientAddressResolver {
  const trusted = parseTrustedProxies(trustedProxies);
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
