import { lookup } from "node:dns/promises";
import { type BlockList, isIP } from "node:net";
import { errorMessage, ImapferryError } from "../errors.ts";
import { parseAddressRanges } from "./address-ranges.ts";

/**
 * What the keyword `private` in IMAPFERRY_DENY_HOSTS stands for: what a public installation's users
 * must not reach through it — this machine, the networks it sits in, and the cloud's metadata service.
 */
export const PRIVATE_RANGES: readonly string[] = [
  "0.0.0.0/8", // "this network": on Linux, connecting to 0.0.0.0 reaches this machine
  "127.0.0.0/8", // loopback
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16", // RFC 1918
  "100.64.0.0/10", // carrier-grade NAT, used inside clouds and VPNs
  "169.254.0.0/16", // link-local, where 169.254.169.254 (cloud metadata) lives
  "::/128", // unspecified, like 0.0.0.0
  "::1/128", // loopback
  "fc00::/7", // unique local
  "fe80::/10", // link-local
];

/**
 * The one answer for a denied host, wherever it is asked. It must not depend on what is behind the
 * host (an open, closed or silent port): nothing is ever sent there, so nothing can be told apart.
 */
export const DENIED_HOST_SENTENCE = "This host is not allowed on this installation (IMAPFERRY_DENY_HOSTS).";

/** The server hosts imapferry refuses to connect to (IMAPFERRY_DENY_HOSTS). */
export interface HostDenyList {
  /** Whether an IP address (v4, v6, or IPv4-mapped v6) falls in a denied range. */
  deniesAddress(address: string): boolean;
  /**
   * Whether connecting to `host` could reach a denied address: an IP literal as it is, a name by every
   * address DNS gives for it (one denied address is enough: the client may pick any). A name that does
   * not resolve is not denied here: the connection then fails on its own, as it would anyway. The
   * connection resolves the name again, so a DNS answer that changes in between (rebinding) slips
   * through: a firewall is the complete answer, this is the one users can see.
   */
  deniesHost(host: string): Promise<boolean>;
}

/** The host field accepts "[::1]" (URL style); the address inside is what a connection would use. */
function bareHost(host: string): string {
  return host.replace(/^\[(.*)\]$/, "$1");
}

/**
 * Parses IMAPFERRY_DENY_HOSTS entries: addresses, CIDR ranges (v4 and v6) and the keyword `private`.
 * Throws with a sentence naming a bad entry. An empty list denies nothing and never asks DNS.
 */
export function parseDenyHosts(entries: readonly string[]): HostDenyList {
  const expanded = entries.flatMap((entry) => (entry.toLowerCase() === "private" ? PRIVATE_RANGES : [entry]));
  let ranges: BlockList;
  try {
    ranges = parseAddressRanges(expanded);
  } catch (e: unknown) {
    throw new ImapferryError(
      "CONFIG",
      `${errorMessage(e).replace(/\.$/, "")} (entries are addresses, CIDR ranges such as 10.0.0.0/8, or "private").`,
    );
  }
  function deniesAddress(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && ranges.check(address, family === 4 ? "ipv4" : "ipv6");
  }
  return {
    deniesAddress,
    async deniesHost(host) {
      if (expanded.length === 0) return false;
      const bare = bareHost(host);
      if (isIP(bare) !== 0) return deniesAddress(bare);
      let addresses: { address: string }[];
      try {
        addresses = await lookup(bare, { all: true, verbatim: true });
      } catch {
        return false;
      }
      return addresses.some(({ address }) => deniesAddress(address));
    },
  };
}

/**
 * A literal IP address in a server's host field that the deny-list covers: refused when the server is
 * saved, naming the field. A host name is only checked when connecting, since what it resolves to
 * can change.
 */
export function assertHostFieldAllowed(denyHosts: HostDenyList | undefined, host: string | undefined): void {
  if (!denyHosts || host === undefined) return;
  if (!denyHosts.deniesAddress(bareHost(host))) return;
  throw new ImapferryError(
    "BAD_INPUT",
    `The server's host ${host} is not allowed on this installation (IMAPFERRY_DENY_HOSTS).`,
    [{ path: ["host"], message: DENIED_HOST_SENTENCE }],
  );
}

/** A job's source or destination host is on the deny-list: the job fails without connecting to it. */
export class DeniedHostError extends ImapferryError {
  readonly side: "source" | "destination";

  constructor(side: "source" | "destination") {
    super(
      "FORBIDDEN",
      `The ${side} server's host is not allowed on this installation (IMAPFERRY_DENY_HOSTS).`,
    );
    this.name = "DeniedHostError";
    this.side = side;
  }
}
