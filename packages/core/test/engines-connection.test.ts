import type { ImapPair } from "@imapferry/testkit";
import { freeClosedPort, seedMailbox, standardMailboxSpec, startImapPair } from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImapServerEndpoint } from "../src/engines/connection-test.ts";
import { testConnection } from "../src/engines/connection-test.ts";
import { preflight } from "../src/engines/preflight.ts";

const USER = "alice@example.com";
const PASSWORD = "correct-Horse-7";
const CREDENTIALS = { user: USER, password: PASSWORD };

/** The pair's source server over plain IMAP, certificates verified. */
function plainSource(pair: ImapPair, overrides: Partial<ImapServerEndpoint> = {}): ImapServerEndpoint {
  return {
    host: pair.source.host,
    port: pair.source.port,
    security: "none",
    acceptSelfSigned: false,
    ...overrides,
  };
}

/** The pair's source server over implicit TLS, certificates verified. */
function tlsSource(pair: ImapPair, overrides: Partial<ImapServerEndpoint> = {}): ImapServerEndpoint {
  return {
    host: pair.source.host,
    port: pair.source.tlsPort,
    security: "tls",
    acceptSelfSigned: false,
    ...overrides,
  };
}

describe("testConnection against a real Dovecot", () => {
  let pair: ImapPair;

  beforeAll(async () => {
    pair = await startImapPair();
    await pair.source.addUser(USER, PASSWORD);
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it("logs in and reports the capabilities and latency", async () => {
    const result = await testConnection(tlsSource(pair, { acceptSelfSigned: true }), CREDENTIALS);
    expect(result).toMatchObject({ ok: true, authenticated: true });
    if (!result.ok) return;
    expect(result.capabilities).toContain("IMAP4rev1");
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("without credentials, checks reachability and TLS only", async () => {
    const result = await testConnection(plainSource(pair, { security: "starttls", acceptSelfSigned: true }));
    expect(result).toMatchObject({ ok: true, authenticated: false });
    if (result.ok) expect(result.capabilities).toContain("IMAP4rev1");
  });

  it("reports a wrong password as an authentication failure, naming the login but not the password", async () => {
    const wrong = "not-the-Password-9";
    const result = await testConnection(tlsSource(pair, { acceptSelfSigned: true }), {
      user: USER,
      password: wrong,
    });
    expect(result).toEqual({
      ok: false,
      category: "auth",
      sentence: `127.0.0.1 rejected the login for ${USER}: check the user name and the password.`,
    });
    expect(JSON.stringify(result)).not.toContain(wrong);
  });

  it("refuses a self-signed certificate unless the server accepts self-signed ones (TLS and STARTTLS)", async () => {
    const refused = await testConnection(tlsSource(pair), CREDENTIALS);
    expect(refused).toMatchObject({ ok: false, category: "tls" });
    if (!refused.ok) expect(refused.sentence).toContain('turn on "accept self-signed certificate"');

    const starttlsRefused = await testConnection(plainSource(pair, { security: "starttls" }), CREDENTIALS);
    expect(starttlsRefused).toMatchObject({ ok: false, category: "tls" });

    expect(await testConnection(tlsSource(pair, { acceptSelfSigned: true }), CREDENTIALS)).toMatchObject({
      ok: true,
    });
    expect(
      await testConnection(plainSource(pair, { security: "starttls", acceptSelfSigned: true }), CREDENTIALS),
    ).toMatchObject({ ok: true });
  });

  it("reports a closed port as refused", async () => {
    const port = await freeClosedPort();
    const result = await testConnection(plainSource(pair, { port }), CREDENTIALS);
    expect(result).toMatchObject({ ok: false, category: "refused" });
    if (!result.ok) expect(result.sentence).toContain(`127.0.0.1:${port} refused the connection`);
  });

  it("reports an unknown host name as a DNS failure", async () => {
    const result = await testConnection(plainSource(pair, { host: "imapferry-test.invalid" }), CREDENTIALS);
    expect(result).toMatchObject({ ok: false, category: "dns" });
    if (!result.ok) expect(result.sentence).toContain("imapferry-test.invalid could not be found");
  });

  it("reports TLS spoken to a plain-IMAP port as a TLS failure", async () => {
    const result = await testConnection(
      tlsSource(pair, { port: pair.source.port, acceptSelfSigned: true }),
      CREDENTIALS,
    );
    expect(result).toMatchObject({ ok: false, category: "tls" });
  });

  it("reports a server that never answers as a timeout", async () => {
    // Plain IMAP spoken to the TLS port: the server waits for a TLS hello, we wait for a greeting.
    const result = await testConnection(plainSource(pair, { port: pair.source.tlsPort }), CREDENTIALS, {
      timeoutMs: 1500,
    });
    expect(result).toMatchObject({ ok: false, category: "timeout" });
    if (!result.ok) expect(result.sentence).toContain("set the security to TLS");
  });
});

describe("preflight against a real Dovecot", () => {
  let pair: ImapPair;
  const spec = standardMailboxSpec();

  beforeAll(async () => {
    pair = await startImapPair();
    await pair.source.addUser(USER, PASSWORD);
    await seedMailbox(pair.source, USER, PASSWORD, spec);
  });
  afterAll(async () => {
    await pair?.stop();
  });

  const expected = () => {
    const byFolder = new Map<string, { messages: number; bytes: number }>();
    for (const folder of spec.folders) {
      const messages = folder.messages ?? [];
      byFolder.set(folder.path, {
        messages: messages.length,
        bytes: messages.reduce((sum, m) => sum + Buffer.byteLength(m.source), 0),
      });
    }
    return byFolder;
  };

  it("counts messages and bytes per source folder with STATUS SIZE, and by FETCH where asked", async () => {
    const server = tlsSource(pair, { acceptSelfSigned: true });
    const want = expected();
    for (const sizeMethod of ["auto", "fetch"] as const) {
      const result = await preflight(server, CREDENTIALS, { sizeMethod });
      expect(result.sizeMethod).toBe(sizeMethod === "auto" ? "status-size" : "fetch");
      for (const [path, counts] of want) {
        const folder = result.folders.find((f) => f.path === path);
        // Dovecot may store LF-only seeds as CRLF; the count is exact, the size at least the source's.
        expect(folder, path).toMatchObject({ messages: counts.messages });
        expect(folder?.bytes, path).toBeGreaterThanOrEqual(counts.bytes);
      }
      const totalMessages = [...want.values()].reduce((s, c) => s + c.messages, 0);
      expect(result.totalMessages).toBe(totalMessages);
      expect(result.totalBytes).toBe(result.folders.reduce((s, f) => s + f.bytes, 0));
    }
    const [statusSize, fetched] = await Promise.all([
      preflight(server, CREDENTIALS),
      preflight(server, CREDENTIALS, { sizeMethod: "fetch" }),
    ]);
    expect(fetched.folders).toEqual(statusSize.folders);
  });

  it("honours the folder include and exclude options, by UTF-8 or IMAP name", async () => {
    const server = plainSource(pair);
    const only = await preflight(server, CREDENTIALS, { folders: ["INBOX", "Entwürfe"] });
    expect(only.folders.map((f) => f.path).sort()).toEqual(["Entwürfe", "INBOX"]);
    expect(only.folders.find((f) => f.path === "Entwürfe")?.imapName).toBe("Entw&APw-rfe");
    const without = await preflight(server, CREDENTIALS, { excludeFolders: ["INBOX", "Entw&APw-rfe"] });
    expect(without.folders.map((f) => f.path)).not.toContain("INBOX");
    expect(without.folders.map((f) => f.path)).not.toContain("Entwürfe");
  });

  it("fails with the connection test's sentence when the login is refused", async () => {
    const server = plainSource(pair);
    await expect(preflight(server, { user: USER, password: "wrong-Password-1" })).rejects.toMatchObject({
      code: "UNAVAILABLE",
      message: expect.stringContaining(`rejected the login for ${USER}`),
    });
  });
});
