import { appendLogChunk, createApiToken, createJob, createServer } from "@imapferry/core";
import { createClient } from "@imapferry/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";

// An engine's log tells an admin about imapferry's machine (host name, RAM, PID, paths); a token that
// is not admin (a hosting panel's) reads the same log without those lines, live and downloaded.

const MACHINE_LINES = [
  "Here is imapsync 2.229 on host ferry-worker-7, a linux system with 23.4 GiB total RAM",
  "with Perl 5.36.0 and Mail::IMAPClient 3.43",
  "PID is 48211 my PPID is 48200",
  "Load is 1.52 1.31 1.10 4/612 on 2 cores",
  "Current directory is /srv/imapferry",
  "Real user id is imapferry (uid 998)",
];
const MIGRATION_LINES = [
  "Host1: IMAP server [127.0.0.1] port [993] user [alice@old.example]",
  "++++ Looping on each one of 3 folders to sync",
  "msg INBOX/1 {2048} copied to INBOX/1",
];

describe("host details in logs", () => {
  let server: ApiTestServer;
  let jobId: number;
  let adminToken: string;
  let operateToken: string;

  beforeAll(async () => {
    server = await startApiTestServer({ worker: false });
    const ctx = server.ctx;
    const admin = await ctx.db.selectFrom("users").select(["id", "username"]).executeTakeFirstOrThrow();
    adminToken = (await createApiToken(ctx, admin.id, { name: "ops", role: "admin" })).token;
    operateToken = (await createApiToken(ctx, admin.id, { name: "panel", role: "operate" })).token;
    const old = await createServer(ctx, { name: "old", host: "imap.old.example" });
    const job = await createJob(ctx, {
      sourceServerId: old.id,
      sourceEmail: "alice@old.example",
      sourcePassword: "pw",
      destServerId: old.id,
      destEmail: "alice@new.example",
      destPassword: "pw",
    });
    jobId = job.id;
    // Interleaved, in chunks that cut lines in two, as a writer under load stores them.
    const text = [
      MACHINE_LINES[0],
      MIGRATION_LINES[0],
      ...MACHINE_LINES.slice(1),
      ...MIGRATION_LINES.slice(1),
    ]
      .map((line) => `${line}\n`)
      .join("");
    for (let at = 0; at < text.length; at += 37) await appendLogChunk(ctx.db, jobId, text.slice(at, at + 37));
    await ctx.db
      .updateTable("jobs")
      .set({ status: "done", finished_at: new Date() })
      .where("id", "=", jobId)
      .execute();
  });

  afterAll(async () => {
    await server?.stop();
  });

  async function follow(token: string): Promise<string> {
    const client = createClient({ url: server.url, token });
    let text = "";
    for await (const piece of client.followLogs(jobId)) text += piece;
    return text;
  }

  async function download(token: string): Promise<string> {
    const response = await createClient({ url: server.url, token }).downloadLog(jobId);
    return response.text();
  }

  it("an admin token reads every line, live and downloaded", async () => {
    for (const text of [await follow(adminToken), await download(adminToken)]) {
      for (const line of [...MACHINE_LINES, ...MIGRATION_LINES]) expect(text).toContain(`${line}\n`);
    }
  });

  it("an operate token reads the migration without a single line about the machine, live and downloaded", async () => {
    for (const text of [await follow(operateToken), await download(operateToken)]) {
      expect(text).toBe(MIGRATION_LINES.map((line) => `${line}\n`).join(""));
      expect(text).not.toContain("ferry-worker-7");
      expect(text).not.toContain("48211");
    }
  });
});
