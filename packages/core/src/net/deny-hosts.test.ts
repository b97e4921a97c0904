import { describe, expect, it } from "vitest";
import { ImapferryError } from "../errors.ts";
import { assertHostFieldAllowed, DENIED_HOST_SENTENCE, parseDenyHosts } from "./deny-hosts.ts";

describe("parseDenyHosts", () => {
  it("matches addresses inside IPv4 and IPv6 CIDR ranges and single addresses, nothing else", () => {
    const list = parseDenyHosts(["10.0.0.0/8", "192.0.2.7", "fc00::/7", "2001:db8::1"]);
    expect(list.deniesAddress("10.200.3.4")).toBe(true);
    expect(list.deniesAddress("11.0.0.1")).toBe(false);
    expect(list.deniesAddress("192.0.2.7")).toBe(true);
    expect(list.deniesAddress("192.0.2.8")).toBe(false);
    expect(list.deniesAddress("fd12:3456::1")).toBe(true);
    expect(list.deniesAddress("fe80::1")).toBe(false);
    expect(list.deniesAddress("2001:db8::1")).toBe(true);
    expect(list.deniesAddress("2001:db8::2")).toBe(false);
  });

  it("denies the IPv4-mapped IPv6 form of a denied IPv4 address, in either spelling", () => {
    const list = parseDenyHosts(["127.0.0.0/8"]);
    expect(list.deniesAddress("::ffff:127.0.0.1")).toBe(true);
    expect(list.deniesAddress("::ffff:7f00:1")).toBe(true);
    expect(list.deniesAddress("::ffff:8.8.8.8")).toBe(false);
  });

  it('expands "private" to loopback, private, link-local and the unspecified addresses', () => {
    const list = parseDenyHosts(["private"]);
    for (const address of [
      "127.0.0.1",
      "10.1.1.1",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "::1",
      "::",
      "fd00::1",
      "fe80::1",
      "::ffff:10.0.0.1",
    ]) {
      expect(list.deniesAddress(address), address).toBe(true);
    }
    for (const address of ["172.32.0.1", "8.8.8.8", "192.0.2.1", "2001:4860:4860::8888"]) {
      expect(list.deniesAddress(address), address).toBe(false);
    }
  });

  it("refuses an entry that is not an address, a range or a keyword, naming it", () => {
    expect(() => parseDenyHosts(["127.0.0.0/8", "intranet.example"])).toThrow(
      /"intranet\.example" is not an IP address or a CIDR range \(entries are addresses, CIDR ranges such as 10\.0\.0\.0\/8, or "private"\)\./,
    );
    expect(() => parseDenyHosts(["10.0.0.0/33"])).toThrow(/"10\.0\.0\.0\/33" has an invalid prefix length/);
    expect(() => parseDenyHosts(["fc00::/129"])).toThrow(/"fc00::\/129" has an invalid prefix length/);
    expect(() => parseDenyHosts(["10.0.0.0/x"])).toThrow(/"10\.0\.0\.0\/x" has an invalid prefix length/);
  });
});

describe("deniesHost", () => {
  it("checks every address a name resolves to: localhost is loopback", async () => {
    const list = parseDenyHosts(["127.0.0.0/8", "::1"]);
    expect(await list.deniesHost("localhost")).toBe(true);
    // getaddrinfo reads the short form 127.1 as 127.0.0.1.
    expect(await list.deniesHost("127.1")).toBe(true);
  });

  it("checks IP literals as they are, brackets or not", async () => {
    const list = parseDenyHosts(["private"]);
    expect(await list.deniesHost("127.0.0.1")).toBe(true);
    expect(await list.deniesHost("[::1]")).toBe(true);
    expect(await list.deniesHost("::ffff:192.168.0.10")).toBe(true);
    expect(await list.deniesHost("192.0.2.1")).toBe(false);
  });

  it("lets a name that does not resolve through: its connection fails by itself", async () => {
    expect(await parseDenyHosts(["private"]).deniesHost("imapferry-test.invalid")).toBe(false);
  });

  it("denies nothing when empty (the default)", async () => {
    const list = parseDenyHosts([]);
    expect(await list.deniesHost("localhost")).toBe(false);
    expect(await list.deniesHost("127.0.0.1")).toBe(false);
  });
});

describe("assertHostFieldAllowed", () => {
  const list = parseDenyHosts(["127.0.0.0/8"]);

  it("refuses a denied IP literal in the host field, naming the field", () => {
    let thrown: unknown;
    try {
      assertHostFieldAllowed(list, "127.0.0.1");
    } catch (e: unknown) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ImapferryError);
    expect(thrown).toMatchObject({
      code: "BAD_INPUT",
      message: "The server's host 127.0.0.1 is not allowed on this installation (IMAPFERRY_DENY_HOSTS).",
      problems: [{ path: ["host"], message: DENIED_HOST_SENTENCE }],
    });
  });

  it("leaves host names to the check at connection time", () => {
    expect(() => assertHostFieldAllowed(list, "localhost")).not.toThrow();
    expect(() => assertHostFieldAllowed(list, "192.0.2.1")).not.toThrow();
    expect(() => assertHostFieldAllowed(undefined, "127.0.0.1")).not.toThrow();
  });
});
