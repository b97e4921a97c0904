import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createApiToken, createServer } from "@imapferry/core";
import { rowsToCsv } from "@imapferry/sdk";
import type { ImapPair } from "@imapferry/testkit";
import { ensurePhp, seedMailbox, startImapPair } from "@imapferry/testkit";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";

// examples/php/migrate-batch.php, run by Debian's php-cli against a real server, worker and Dovecots:
// what a PHP hosting panel does through the REST API.

const SCRIPT = path.resolve(import.meta.dirname, "../../../examples/php/migrate-batch.php");
const PASSWORD = "Php-Example-pw42";

function message(i: number): string {
  return [
    `From: Sender ${i} <sender${i}@example.org>`,
    `Subject: Message number ${i}`,
    `Message-ID: <php-${i}@example.org>`,
    "Date: Mon, 02 Nov 2026 10:00:00 +0000",
    "",
    `Body of message ${i}.`,
    "",
  ].join("\r\n");
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the example with the token in its environment (never in argv), as a panel's cron job would. */
function runExample(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      "php",
      [SCRIPT, ...args],
      { env: { PATH: process.env.PATH ?? "", ...env } },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(
            error.code === "ENOENT"
              ? new Error("php is not installed: apt-get install php-cli php-curl (as .ci/run does).")
              : error,
          );
          return;
        }
        resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
  });
}

describe("the PHP example client", () => {
  let server: ApiTestServer;
  let imap: ImapPair;
  let dir: string;
  let env: Record<string, string>;
  let sourceId: number;
  let destId: number;

  beforeAll(async () => {
    ensurePhp();
    [server, imap] = await Promise.all([startApiTestServer(), startImapPair()]);
    dir = await mkdtemp(path.join(tmpdir(), "imapferry-php-"));
    for (const [n, user] of ["alice@example.com", "bob@example.com"].entries()) {
      await imap.source.addUser(user, PASSWORD);
      await imap.destination.addUser(user, PASSWORD);
      await seedMailbox(imap.source, user, PASSWORD, {
        folders: [
          { path: "INBOX", messages: Array.from({ length: 5 + n * 3 }, (_, i) => ({ source: message(i) })) },
        ],
      });
    }
    sourceId = (
      await createServer(server.ctx, {
        name: "old",
        host: "127.0.0.1",
        port: imap.source.port,
        security: "none",
      })
    ).id;
    destId = (
      await createServer(server.ctx, {
        name: "new",
        host: "127.0.0.1",
        port: imap.destination.tlsPort,
        security: "tls",
        acceptSelfSigned: true,
      })
    ).id;
    const admin = await server.ctx.db.selectFrom("users").select("id").executeTakeFirstOrThrow();
    const { token } = await createApiToken(server.ctx, admin.id, {
      name: "php panel",
      role: "operate",
      tenant: "acme",
    });
    env = { IMAPFERRY_URL: server.url, IMAPFERRY_TOKEN: token, IMAPFERRY_POLL_SECONDS: "0.2" };
  });

  afterAll(async () => {
    await server?.stop();
    await imap?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function csvFile(name: string, rows: { login: string; sourcePassword: string }[]): Promise<string> {
    const file = path.join(dir, name);
    const csv = rowsToCsv(
      rows.map((r) => ({
        sourceServerId: sourceId,
        sourceEmail: r.login,
        sourcePassword: r.sourcePassword,
        destServerId: destId,
        destEmail: r.login,
        destPassword: PASSWORD,
      })),
    );
    await writeFile(file, csv, { mode: 0o600 });
    return file;
  }

  it("imports a batch, follows it to the end, saves its report and exits 0 when every mailbox is done", async () => {
    const file = await csvFile("wave-1.csv", [
      { login: "alice@example.com", sourcePassword: PASSWORD },
      { login: "bob@example.com", sourcePassword: PASSWORD },
    ]);
    const report = path.join(dir, "wave-1-report.csv");
    const run = await runExample([file, "--tag", "php-wave-1", "--real", "--report", report], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Imported batch \d+ \(php-wave-1\): 2 mailboxes\.$/m);
    expect(run.stdout).toContain(`Finished: 2 of 2 mailboxes done. Report saved to ${report}.`);
    const rows = parse(await readFile(report, "utf8"), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.source, r.status, r.copied])).toEqual(
      expect.arrayContaining([
        ["alice@example.com", "done", "5"],
        ["bob@example.com", "done", "8"],
      ]),
    );
    // The batch is the token's tenant's, and the password never came back.
    const batch = await server.ctx.db
      .selectFrom("batches")
      .select("tenant")
      .where("tag", "=", "php-wave-1")
      .executeTakeFirstOrThrow();
    expect(batch.tenant).toBe("acme");
    expect(run.stdout + (await readFile(report, "utf8"))).not.toContain(PASSWORD);
  });

  it("exits 1 when a mailbox failed, and the report says why", async () => {
    const file = await csvFile("wave-2.csv", [
      { login: "alice@example.com", sourcePassword: "Wrong-pw-1234" },
    ]);
    const report = path.join(dir, "wave-2-report.csv");
    const run = await runExample([file, "--tag", "php-wave-2", "--real", "--report", report], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("Finished: 0 of 1 mailboxes done.");
    const [row] = parse(await readFile(report, "utf8"), { columns: true }) as Record<string, string>[];
    expect(row).toMatchObject({ source: "alice@example.com", status: "failed" });
    expect(row?.error).toMatch(/password/i);
  });

  it("exits 2 with imapferry's sentence when the token is refused", async () => {
    const file = await csvFile("wave-3.csv", [{ login: "bob@example.com", sourcePassword: PASSWORD }]);
    const run = await runExample([file], { ...env, IMAPFERRY_TOKEN: "imf_not-a-real-token" });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "imapferry refused (UNAUTHORIZED): Log in, or send a valid API token as `Authorization: Bearer <token>`.\n",
    );
  });
});
