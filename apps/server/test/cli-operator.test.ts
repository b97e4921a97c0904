import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type ImapferryClient, rowsToCsv } from "@imapferry/sdk";
import type { ImapPair, SeedMessage } from "@imapferry/testkit";
import { readMailbox, seedMailbox, startImapPair } from "@imapferry/testkit";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";
import { addImapPairServers, adminTokenClient } from "./support/admin-client.ts";

// The operator CLI as a script runs it: the built `imapferry` of @imapferry/cli, a real server, real
// Dovecot on both sides. Assertions are on exit codes, printed text and the destination's mailboxes.

const CLI = path.resolve(import.meta.dirname, "../../../packages/cli/dist/main.js");
const PASSWORD = "Operator-Cli-pw1";

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The process's argv as the system saw it, to prove no secret was on it. */
  argv: string[];
}

function runCli(args: string[], env: Record<string, string>, stdin?: string): Promise<CliRun> {
  const argv = [process.execPath, CLI, ...args];
  const child = spawn(argv[0] as string, argv.slice(1), {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString("utf8");
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString("utf8");
  });
  child.stdin.end(stdin ?? "");
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr, argv })));
}

function message(user: string, n: number): SeedMessage {
  return {
    source: [
      `From: Sender ${n} <sender${n}@example.org>`,
      `To: ${user}`,
      `Subject: CLI test ${n}`,
      `Message-ID: <cli-${n}-${user}>`,
      "Date: Mon, 02 Nov 2026 10:00:00 +0000",
      "",
      `Body ${n}`,
      "",
    ].join("\r\n"),
  };
}

describe("the imapferry operator CLI", () => {
  let server: ApiTestServer;
  let imap: ImapPair;
  let client: ImapferryClient;
  let env: Record<string, string>;
  let dir: string;
  let sourceId: number;
  let destId: number;
  const users = ["dora@example.com", "emil@example.com"];

  beforeAll(async () => {
    [server, imap] = await Promise.all([startApiTestServer(), startImapPair()]);
    for (const [i, user] of users.entries()) {
      await imap.source.addUser(user, PASSWORD);
      await imap.destination.addUser(user, PASSWORD);
      const messages = Array.from({ length: 4 + i }, (_, n) => message(user, n));
      await seedMailbox(imap.source, user, PASSWORD, {
        folders: [
          { path: "INBOX", messages },
          { path: "Archive", messages: [message(user, 100)] },
        ],
      });
    }
    const signedIn = await adminTokenClient(server, { name: "cli" });
    client = signedIn.client;
    env = { IMAPFERRY_URL: server.url, IMAPFERRY_TOKEN: signedIn.token };
    ({ sourceId, destId } = await addImapPairServers(client, imap, {
      source: "old host",
      destination: "new host",
    }));
    dir = await mkdtemp(path.join(tmpdir(), "imapferry-cli-"));
  });

  afterAll(async () => {
    await server?.stop();
    await imap?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function csvFor(rows: { user: string; destPassword?: string }[]): string {
    return rowsToCsv(
      rows.map(({ user, destPassword }) => ({
        sourceServerId: sourceId,
        sourceEmail: user,
        sourcePassword: PASSWORD,
        destServerId: destId,
        destEmail: user,
        destPassword: destPassword ?? PASSWORD,
      })),
    );
  }

  it("imports a CSV for real, follows the batch to the end and exits 0 with every message on the destination", async () => {
    const file = path.join(dir, "wave-1.csv");
    await writeFile(file, csvFor(users.map((user) => ({ user }))));
    const run = await runCli(["batches", "import", file, "--tag", "wave-1", "--real", "--follow"], env);
    expect(run.stderr).toContain("Imported 2 mailboxes as batch wave-1");
    expect(run.stderr).toMatch(/Batch wave-1 \(\d+\) ended: done 2\./);
    expect(run.code).toBe(0);
    for (const user of users) {
      const [source, destination] = await Promise.all([
        readMailbox(imap.source, user, PASSWORD),
        readMailbox(imap.destination, user, PASSWORD),
      ]);
      expect(destination).toEqual(source);
    }
    // The passwords travelled in the file, never on a command line.
    expect(run.argv.join(" ")).not.toContain(PASSWORD);
  });

  it("lists and shows the jobs, as a table and as JSON", async () => {
    const table = await runCli(["jobs", "list", "--batch", "wave-1"], env);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+STATUS\s+CREATED\s+PROGRESS\s+NAME$/);
    for (const user of users) expect(table.stdout).toMatch(new RegExp(`\\d+\\s+done\\s+.*${user}`));

    const json = await runCli(["--json", "jobs", "list", "--batch", "wave-1"], env);
    const page = JSON.parse(json.stdout) as { items: { id: number; status: string; sourceEmail: string }[] };
    expect(page.items.map((j) => [j.sourceEmail, j.status]).sort()).toEqual(users.map((u) => [u, "done"]));

    const emil = page.items.find((j) => j.sourceEmail === "emil@example.com");
    const shown = await runCli(["jobs", "show", String(emil?.id)], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("Status      done");
    expect(shown.stdout).toContain("6 of 6 source messages there, 0 missing");
    expect(shown.stdout).toMatch(/INBOX\s+5 \(/);
  });

  it("downloads the batch report as CSV, to standard output or a file", async () => {
    const run = await runCli(["report", "wave-1"], env);
    expect(run.code).toBe(0);
    const rows = parse(run.stdout, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => [r.source, r.status, r.destination_messages]).sort()).toEqual([
      ["dora@example.com", "done", "5"],
      ["emil@example.com", "done", "6"],
    ]);
    const file = path.join(dir, "report.csv");
    const toFile = await runCli(["report", "wave-1", "--output", file], env);
    expect(toFile.code).toBe(0);
    expect(await readFile(file, "utf8")).toBe(run.stdout);
  });

  it("exits 7 when a followed batch has a failed mailbox, and names it", async () => {
    const file = path.join(dir, "wave-2.csv");
    await writeFile(
      file,
      csvFor([{ user: "dora@example.com" }, { user: "emil@example.com", destPassword: "wrong-pw-1" }]),
    );
    const run = await runCli(["batches", "import", file, "--tag", "wave-2", "--real", "--follow"], env);
    expect(run.stderr).toMatch(/ended: done 1, failed 1\./);
    expect(run.code).toBe(7);
    expect(run.stderr).not.toContain("wrong-pw-1");
  });

  it("checks a CSV with problems: each problem by line and column, exit 3, nothing imported", async () => {
    const before = await client.batches.list.query({});
    const good = csvFor([{ user: "dora@example.com" }]);
    const file = path.join(dir, "bad.csv");
    // Line 2 names a server by something that is not an id; line 3 is fine.
    await writeFile(file, `${good.replace(`\n${sourceId},`, "\nold,")}${good.split("\n")[1]}\n`);
    const checked = await runCli(["batches", "import", file, "--check"], env);
    expect(checked.code).toBe(3);
    expect(checked.stdout).toMatch(/line 2, sourceServerId: /);
    const imported = await runCli(["batches", "import", "-"], env, await readFile(file, "utf8"));
    expect(imported.code).toBe(3);
    expect(imported.stderr).toContain("nothing was imported");
    expect(imported.stderr).toMatch(/line 2, sourceServerId: /);
    expect((await client.batches.list.query({})).items).toHaveLength(before.items.length);
  });

  it("creates one job with passwords from the environment, follows it and reruns it", async () => {
    const created = await runCli(
      [
        "--json",
        "jobs",
        "create",
        "--from",
        "old host",
        "--from-login",
        "dora@example.com",
        "--to",
        String(destId),
        "--to-login",
        "dora@example.com",
        "--real",
        "--follow",
      ],
      { ...env, IMAPFERRY_SOURCE_PASSWORD: PASSWORD, IMAPFERRY_DEST_PASSWORD: PASSWORD },
    );
    expect(created.code).toBe(0);
    const [job] = JSON.parse(created.stdout) as {
      id: number;
      status: string;
      stats: Record<string, number>;
    }[];
    expect(job?.status).toBe("done");
    expect(created.argv.join(" ")).not.toContain(PASSWORD);

    const rerun = await runCli(["jobs", "rerun", String(job?.id), "--follow"], env);
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toMatch(new RegExp(`Job ${job?.id} rerun as job \\d+\\.`));
    expect(rerun.stderr).toMatch(/Job \d+ \(.*\) done: copied 0 \/ 5 messages\./);
  });

  it("creates a job that waits for its owner's password and prints the owner's link once", async () => {
    const run = await runCli(
      [
        "jobs",
        "create",
        "--from",
        "old host",
        "--from-login",
        "emil@example.com",
        "--to",
        "new host",
        "--to-login",
        "emil@example.com",
        "--owner-link",
        "--real",
      ],
      { ...env, IMAPFERRY_DEST_PASSWORD: PASSWORD },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Job (\d+) \(.*\) is waiting for its owner's password\.$/m);
    const link = /Link for the owner \(shown once\): (\S+)/.exec(run.stdout)?.[1] ?? "";
    expect(link.startsWith(`${server.url}/credentials/`)).toBe(true);
    const id = Number(/^Job (\d+)/m.exec(run.stdout)?.[1]);
    expect((await client.jobs.get.query({ id })).status).toBe("awaiting_credentials");
  });

  it("resumes a waiting job now, and refuses one that is not waiting with its sentence (exit 3)", async () => {
    const job = await client.jobs.create.mutate({
      sourceServerId: sourceId,
      sourceEmail: users[0]!,
      sourcePassword: PASSWORD,
      destServerId: destId,
      destEmail: users[0]!,
      destPassword: PASSWORD,
      dryRun: true,
    });
    const ended = async () => {
      for (;;) {
        const view = await client.jobs.get.query({ id: job.id });
        if (["done", "failed", "incomplete"].includes(view.status)) return view;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    expect((await ended()).status).toBe("done");
    // As a throttled run leaves it: waiting an hour to resume.
    await server.ctx.db
      .updateTable("jobs")
      .set({ status: "waiting", resume_at: new Date(Date.now() + 3_600_000), attempt: 2 })
      .where("id", "=", job.id)
      .execute();

    const resumed = await runCli(["jobs", "resume", String(job.id)], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`^Job ${job.id} \\(.*\\): resuming now\\.$`, "m"));
    expect((await ended()).status).toBe("done");

    const refused = await runCli(["jobs", "resume", String(job.id)], env);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`Job ${job.id} is done, not waiting to resume`);
  });

  it("says what is wrong with the connection: no URL (2), a bad token (4), no server (5), an unknown job (3)", async () => {
    const noUrl = await runCli(["jobs", "list"], { IMAPFERRY_TOKEN: "x" });
    expect([noUrl.code, noUrl.stderr]).toEqual([2, expect.stringContaining("Set IMAPFERRY_URL")]);
    const badToken = await runCli(["jobs", "list"], { ...env, IMAPFERRY_TOKEN: "if_not-a-token" });
    expect(badToken.code).toBe(4);
    const nobody = await runCli(["jobs", "list"], { ...env, IMAPFERRY_URL: "http://127.0.0.1:9" });
    expect([nobody.code, nobody.stderr]).toEqual([
      5,
      expect.stringContaining("Cannot reach imapferry at http://127.0.0.1:9"),
    ]);
    const unknown = await runCli(["jobs", "show", "999999"], env);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/^imapferry: .*999999/);
    const usage = await runCli(["jobs", "show", "twelve"], env);
    expect([usage.code, usage.stderr]).toEqual([
      2,
      expect.stringContaining('must be a positive whole number (got "twelve")'),
    ]);
  });
});
