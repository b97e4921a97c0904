import { BlockList, isIP } from "node:net";

/**
 * Parses addresses and CIDR ranges ("127.0.0.1", "10.0.0.0/8", "fc00::/7") into a block list. Throws
 * with a sentence naming the first entry that is neither, for the environment variable's error.
 * An IPv4 range also matches the IPv4-mapped IPv6 form of its addresses (::ffff:127.0.0.1): BlockList
 * does that itself.
 */
export function parseAddressRanges(entries: readonly string[]): BlockList {
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
