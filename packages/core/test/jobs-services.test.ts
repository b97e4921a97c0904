import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isImapferryError } from "../src/errors.ts";
import { applyEvent, emptyProgress } from "../src/queue/progress-tracker.ts";
import { createBatch, getBatch, listBatches } from "../src/services/batches/batches.ts";
import {
  bulkJobs,
  cancelJob,
  createJob,
  deleteJob,
  editJob,
  getJob,
  listJobs,
  rerunJob,
} from "../src/services/jobs/index.ts";
import { createLogWriter } from "../src/services/logs/log-writer.ts";
import { appendLogChunk, readLog, streamLog } from "../src/services/logs/logs.ts";
import { createServer, deleteServer, listServers, updateServer } from "../src/services/servers/servers.ts";
import { getSettings, SETTINGS_DEFAULTS, updateSettings } from "../src/services/settings/index.ts";
import { createJobTestContext, type JobTestContext, waitFor } from "./support/job-context.ts";

let t: JobTestContext;
let sourceId: number;
let destId: number;

async function queueEntryKeys(): Promise<string[]> {
  const rows = await sql<{
    key: string | null;
  }>`select key from graphile_worker.jobs where task_identifier like 'migrate%' order by id`.execute(
    t.ctx.db,
  );
  return rows.rows.map((r) => r.key ?? "(no key)");
}

async function expectError(promise: Promise<unknown>, code: string, text?: RegExp): Promise<void> {
  try {
    await promise;
  } catch (e: unknown) {
    expect(isImapferryError(e) ? e.code : e).toBe(code);
    if (text) expect((e as Error).message).toMatch(text);
    return;
  }
  throw new Error(`expected ${code}`);
}

function newJob(extra: Record<string, unknown> = {}) {
  return createJob(t.ctx, {
    sourceServerId: sourceId,
    sourceEmail: "alice@old.example",
    sourcePassword: 's3cret, "quoted"',
    destServerId: destId,
    destEmail: "alice@new.example",
    destPassword: "d3st",
    ...extra,
  });
}

beforeAll(async () => {
  t = await createJobTestContext();
  sourceId = (
    await createServer(t.ctx, { name: "old", host: "imap.old.example", port: 993, security: "tls" })
  ).id;
  destId = (
    await createServer(t.ctx, {
      name: "new",
      host: "imap.new.example",
      port: 143,
      security: "starttls",
      sourceHostLimit: 5,
    })
  ).id;
});
afterAll(async () => {
  await t?.close();
});

describe("servers", () => {
  it("validates, lists, updates and refuses duplicate names", async () => {
    await expectError(createServer(t.ctx, { name: "", host: "bad host", port: 70000 }), "BAD_INPUT");
    await expectError(createServer(t.ctx, { name: "old", host: "x.example" }), "CONFLICT", /already exists/);
    const updated = await updateServer(t.ctx, { id: sourceId, acceptSelfSigned: true });
    expect(updated).toMatchObject({
      name: "old",
      host: "imap.old.example",
      acceptSelfSigned: true,
      sourceHostLimit: null,
    });
    expect((await listServers(t.ctx)).map((s) => s.name)).toEqual(["new", "old"]);
  });

  it("refuses to delete a server jobs use, with a sentence saying why", async () => {
    await newJob();
    await expectError(deleteServer(t.ctx, sourceId), "CONFLICT", /used by \d+ job/);
    const spare = await createServer(t.ctx, { name: "spare", host: "spare.example" });
    await deleteServer(t.ctx, spare.id);
    await expectError(deleteServer(t.ctx, spare.id), "NOT_FOUND");
  });
});

describe("jobs", () => {
  it("creates a dry run by default, with its queue entry, and never shows a secret", async () => {
    const job = await newJob({ name: "Alice" });
    expect(job).toMatchObject({
      status: "queued",
      dryRun: true,
      name: "Alice",
      sourceServerName: "old",
      attempt: 1,
    });
    const json = JSON.stringify(job);
    expect(json).not.toContain("s3cret");
    expect(json).not.toMatch(/secret/i);
    expect(await queueEntryKeys()).toContain(`imapferry:job:${job.id}`);
    const stored = await t.ctx.db
      .selectFrom("jobs")
      .select("source_secret")
      .where("id", "=", job.id)
      .executeTakeFirstOrThrow();
    expect(stored.source_secret).not.toContain("s3cret");
    expect(t.ctx.vault.decrypt(stored.source_secret ?? "")).toBe('s3cret, "quoted"');
  });

  it("rejects bad input with one problem per field and writes nothing", async () => {
    const before = (await listJobs(t.ctx, { limit: 500 })).items.length;
    try {
      await createJob(t.ctx, {
        sourceServerId: sourceId,
        sourceEmail: "-not-a-login",
        sourcePassword: "line\nbreak",
        destServerId: 9999,
        destEmail: "b@x.example",
        destPassword: "p",
      });
      throw new Error("expected BAD_INPUT");
    } catch (e: unknown) {
      expect(isImapferryError(e) && e.code).toBe("BAD_INPUT");
      const paths = isImapferryError(e) ? e.problems.map((p) => p.path.join(".")) : [];
      expect(paths).toEqual(expect.arrayContaining(["sourceEmail", "sourcePassword"]));
    }
    await expectError(newJob({ destServerId: 9999 }), "BAD_INPUT", /no server 9999/);
    expect((await listJobs(t.ctx, { limit: 500 })).items.length).toBe(before);
  });

  it("lists newest first with filters, free text and a cursor that neither skips nor repeats", async () => {
    const batch = await createBatch(t.ctx, { tag: "wave-1", tenant: "acme" });
    const created = [];
    for (let i = 0; i < 7; i++)
      created.push(await newJob({ sourceEmail: `user${i}@old.example`, batchId: batch.id }));
    const all: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await listJobs(t.ctx, { batchId: batch.id, limit: 3, ...(cursor ? { cursor } : {}) });
      all.push(...page.items.map((j) => j.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(all).toEqual(created.map((j) => j.id).reverse());
    expect((await listJobs(t.ctx, { q: "user3@" })).items.map((j) => j.id)).toEqual([created[3]!.id]);
    expect((await listJobs(t.ctx, { tenant: "acme" })).items).toHaveLength(7);
    expect((await listJobs(t.ctx, { status: ["running"] })).items).toHaveLength(0);
    expect((await listJobs(t.ctx, { q: "100%_" })).items).toHaveLength(0);
    const counted = await getBatch(t.ctx, batch.id);
    expect(counted.counts.queued).toBe(7);
    expect(counted.total).toBe(7);
    expect((await listBatches(t.ctx)).items[0]?.tag).toBe("wave-1");
  });

  it("sorts by name, status and finish time, paging each order without skipping or repeating, and finds jobs by server name", async () => {
    const batch = await createBatch(t.ctx, { tag: "sorting" });
    const names = ["delta", "Alpha", "charlie", "bravo", "echo"];
    const jobs = [];
    for (const name of names)
      jobs.push(await newJob({ name, sourceEmail: `${name}@old.example`, batchId: batch.id }));
    // Two ended (one failed, one done at different times), the rest still queued.
    const [delta, alpha, charlie] = jobs as [(typeof jobs)[0], (typeof jobs)[0], (typeof jobs)[0]];
    await sql`update jobs set status = 'failed', finished_at = now() - interval '1 hour' where id = ${charlie.id}`.execute(
      t.ctx.db,
    );
    await sql`update jobs set status = 'done', finished_at = now() where id = ${delta.id}`.execute(t.ctx.db);
    await sql`update jobs set status = 'incomplete', finished_at = now() - interval '2 hours' where id = ${alpha.id}`.execute(
      t.ctx.db,
    );

    async function everyPage(input: Record<string, unknown>): Promise<string[]> {
      const out: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await listJobs(t.ctx, {
          batchId: batch.id,
          limit: 2,
          ...input,
          ...(cursor ? { cursor } : {}),
        });
        out.push(...page.items.map((j) => j.name));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return out;
    }
    expect(await everyPage({ sort: "name", direction: "asc" })).toEqual([
      "Alpha",
      "bravo",
      "charlie",
      "delta",
      "echo",
    ]);
    expect(await everyPage({ sort: "name", direction: "desc" })).toEqual([
      "echo",
      "delta",
      "charlie",
      "bravo",
      "Alpha",
    ]);
    // Most urgent first: failed, then incomplete, … done last; queued jobs by id within their status.
    expect(await everyPage({ sort: "status" })).toEqual(["charlie", "Alpha", "echo", "bravo", "delta"]);
    // Latest finished first; unfinished ones after them.
    expect((await everyPage({ sort: "finished" })).slice(0, 3)).toEqual(["delta", "charlie", "Alpha"]);
    expect((await everyPage({ sort: "finished", direction: "asc" })).slice(-3)).toEqual([
      "Alpha",
      "charlie",
      "delta",
    ]);

    // Search matches either server's name too.
    await sql`update servers set name = 'Fastmail EU' where id = ${destId}`.execute(t.ctx.db);
    try {
      expect((await listJobs(t.ctx, { batchId: batch.id, q: "fastmail" })).items).toHaveLength(5);
    } finally {
      await sql`update servers set name = 'new' where id = ${destId}`.execute(t.ctx.db);
    }
    await expectError(listJobs(t.ctx, { sort: "password" }), "BAD_INPUT");
  });

  it("edits a job that is not running, keeping a password left empty, and refuses a running one", async () => {
    const job = await newJob();
    await editJob(t.ctx, {
      id: job.id,
      destEmail: "alice2@new.example",
      sourcePassword: "",
      destPassword: "changed",
    });
    const row = await t.ctx.db
      .selectFrom("jobs")
      .selectAll()
      .where("id", "=", job.id)
      .executeTakeFirstOrThrow();
    expect(row.dest_email).toBe("alice2@new.example");
    expect(t.ctx.vault.decrypt(row.source_secret ?? "")).toBe('s3cret, "quoted"');
    expect(t.ctx.vault.decrypt(row.dest_secret ?? "")).toBe("changed");
    await t.ctx.db.updateTable("jobs").set({ status: "running" }).where("id", "=", job.id).execute();
    await expectError(editJob(t.ctx, { id: job.id, destEmail: "x@new.example" }), "CONFLICT", /running/);
    await t.ctx.db.updateTable("jobs").set({ status: "failed" }).where("id", "=", job.id).execute();
  });

  it("cancels a queued job: it leaves the queue", async () => {
    const job = await newJob();
    const cancelled = await cancelJob(t.ctx, { id: job.id });
    expect(cancelled.status).toBe("cancelled");
    expect(await queueEntryKeys()).not.toContain(`imapferry:job:${job.id}`);
    await expectError(cancelJob(t.ctx, { id: job.id }), "CONFLICT", /already ended/);
  });

  it("reruns with a dry-run override, copying the encrypted credentials", async () => {
    const job = await newJob();
    await expectError(rerunJob(t.ctx, { id: job.id }), "CONFLICT", /still queued/);
    await cancelJob(t.ctx, { id: job.id });
    const rerun = await rerunJob(t.ctx, { id: job.id, dryRun: false });
    expect(rerun).toMatchObject({
      rerunOf: job.id,
      dryRun: false,
      status: "queued",
      sourceEmail: job.sourceEmail,
    });
    const [a, b] = await Promise.all(
      [job.id, rerun.id].map((id) =>
        t.ctx.db
          .selectFrom("jobs")
          .select(["source_secret", "dest_secret"])
          .where("id", "=", id)
          .executeTakeFirstOrThrow(),
      ),
    );
    expect(b).toEqual(a);
    expect(await queueEntryKeys()).toContain(`imapferry:job:${rerun.id}`);
  });

  it("soft delete hides a job; hard delete removes the row, its logs and its queue entry", async () => {
    const soft = await newJob();
    await deleteJob(t.ctx, { id: soft.id });
    await expectError(getJob(t.ctx, soft.id), "NOT_FOUND");
    expect((await listJobs(t.ctx, { limit: 500 })).items.map((j) => j.id)).not.toContain(soft.id);
    expect(
      await t.ctx.db.selectFrom("jobs").select("id").where("id", "=", soft.id).executeTakeFirst(),
    ).toBeDefined();
    expect(await queueEntryKeys()).not.toContain(`imapferry:job:${soft.id}`);

    const hard = await newJob();
    await appendLogChunk(t.ctx.db, hard.id, "line one\n");
    await deleteJob(t.ctx, { id: hard.id, hard: true });
    expect(
      await t.ctx.db.selectFrom("jobs").select("id").where("id", "=", hard.id).executeTakeFirst(),
    ).toBeUndefined();
    expect(
      await t.ctx.db.selectFrom("job_logs").select("id").where("job_id", "=", hard.id).executeTakeFirst(),
    ).toBeUndefined();
    expect(await queueEntryKeys()).not.toContain(`imapferry:job:${hard.id}`);
  });

  it("runs bulk actions by ids and by batch, with one outcome per job", async () => {
    const batch = await createBatch(t.ctx, { tag: "bulk" });
    // Three mailboxes: in a batch, jobs of one mailbox pair are runs of one line.
    const jobs = [
      await newJob({ batchId: batch.id, sourceEmail: "a@old.example" }),
      await newJob({ batchId: batch.id, sourceEmail: "b@old.example" }),
      await newJob({ batchId: batch.id, sourceEmail: "c@old.example" }),
    ];
    const cancelled = await bulkJobs(t.ctx, { action: "cancel", batchId: batch.id });
    expect(cancelled).toMatchObject({ succeeded: 3, failed: 0 });
    const rerun = await bulkJobs(t.ctx, {
      action: "rerun",
      ids: [...jobs.map((j) => j.id), 999_999],
      dryRun: false,
    });
    expect(rerun.succeeded).toBe(3);
    expect(rerun.results.find((r) => r.id === 999_999)?.error?.code).toBe("NOT_FOUND");
    // Each rerun replaced the run it reran: three mailboxes, three queued real runs.
    expect((await getBatch(t.ctx, batch.id)).counts).toMatchObject({ cancelled: 0, queued: 3 });
    expect((await getBatch(t.ctx, batch.id)).total).toBe(3);
    const history = await listJobs(t.ctx, { batchId: batch.id, includeSuperseded: true });
    expect(history.items).toHaveLength(6);
    const removed = await bulkJobs(t.ctx, { action: "delete", batchId: batch.id, hard: true });
    expect(removed.succeeded).toBe(6);
    expect((await getBatch(t.ctx, batch.id)).total).toBe(0);
  });
});

describe("logs", () => {
  it("appends chunks at UTF-8 byte offsets and reads from any offset, in pages or as a stream", async () => {
    const job = await newJob();
    // Offsets past 9 and 99 bytes: a text sort would put "100" before "99"; the log must not.
    const pieces = [
      "héllo wörld\n",
      "ünïcode ☕ line\n",
      "plain\n",
      "x".repeat(80),
      "\n",
      "y".repeat(30),
      "\n",
    ];
    for (const p of pieces) await appendLogChunk(t.ctx.db, job.id, p);
    const whole = pieces.join("");
    const total = Buffer.byteLength(whole);
    expect((await getJob(t.ctx, job.id)).logBytes).toBe(total);
    const all = await readLog(t.ctx, job.id, 0);
    expect(all.chunks.map((c) => c.text).join("")).toBe(whole);
    expect(all.nextOffset).toBe(total);
    const from = Buffer.byteLength(pieces[0]!) + 3;
    const tail = await readLog(t.ctx, job.id, from);
    expect(tail.chunks.map((c) => c.text).join("")).toBe(Buffer.from(whole).subarray(from).toString());
    const streamed: string[] = [];
    for await (const chunk of streamLog(t.ctx, job.id, { pageBytes: 10 })) streamed.push(chunk.text);
    expect(streamed.join("")).toBe(whole);
    expect((await readLog(t.ctx, job.id, total)).chunks).toEqual([]);
  });

  it("reads from inside a multi-byte character starting at the next whole character", async () => {
    const job = await newJob();
    for (const p of ["tea ☕", "☕", " done\n"]) await appendLogChunk(t.ctx.db, job.id, p);
    const insideFirst = Buffer.byteLength("tea ") + 1;
    const page = await readLog(t.ctx, job.id, insideFirst);
    expect(page.chunks.map((c) => c.text).join("")).toBe("☕ done\n");
    expect(page.chunks[0]).toMatchObject({ offset: Buffer.byteLength("tea ☕"), text: "☕", bytes: 3 });
    // All the second chunk has left after this offset is its character's tail: nothing of it is read.
    const insideSecond = Buffer.byteLength("tea ☕") + 2;
    const tail = await readLog(t.ctx, job.id, insideSecond);
    expect(tail.chunks.map((c) => c.text)).toEqual([" done\n"]);
    expect(tail.nextOffset).toBe(Buffer.byteLength("tea ☕☕ done\n"));
    const lastTail = await readLog(t.ctx, job.id, Buffer.byteLength("tea ") + 2, 3);
    expect(lastTail.chunks).toEqual([{ offset: Buffer.byteLength("tea ☕"), text: "☕", bytes: 3 }]);
    expect(lastTail.nextOffset).toBe(Buffer.byteLength("tea ☕☕"));
  });
});

describe("log writer", () => {
  it("batches lines into chunk rows of at most 64 KiB, in order, with contiguous offsets", async () => {
    const job = await newJob();
    const writer = createLogWriter({ db: t.ctx.db, jobId: job.id, flushIntervalMs: 50 });
    let expected = "";
    for (let i = 0; i < 3000; i++) {
      const line = `line ${i} ${"é".repeat(i % 40)}\n`;
      writer.write(line);
      expected += line;
    }
    await writer.close();
    const rows = await t.ctx.db
      .selectFrom("job_logs")
      .select(["byte_offset", "chunk"])
      .where("job_id", "=", job.id)
      .orderBy("byte_offset")
      .execute();
    let offset = 0;
    for (const row of rows) {
      expect(Number(row.byte_offset)).toBe(offset);
      expect(Buffer.byteLength(row.chunk)).toBeLessThanOrEqual(64 * 1024);
      offset += Buffer.byteLength(row.chunk);
    }
    expect(rows.map((r) => r.chunk).join("")).toBe(expected);
    expect(rows.length).toBeLessThan(10);
    expect((await getJob(t.ctx, job.id)).logBytes).toBe(Buffer.byteLength(expected));
  });

  it("writes a line after a quiet spell at once, and batches the lines that follow it closely", async () => {
    const job = await newJob();
    // An interval far longer than this test: whatever is stored before close() was not waiting for it.
    const writer = createLogWriter({ db: t.ctx.db, jobId: job.id, flushIntervalMs: 10 * 60_000 });
    const stored = async () => (await readLog(t.ctx, job.id, 0)).chunks.map((c) => c.text);
    writer.write("first\n");
    await waitFor("the first line to be stored", async () => writer.bytesWritten === 6);
    expect(await stored()).toEqual(["first\n"]);
    writer.write("second\n");
    writer.write("third\n");
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await stored()).toEqual(["first\n"]);
    await writer.close();
    expect(await stored()).toEqual(["first\n", "second\nthird\n"]);
  });

  it("keeps lines written while a chunk's INSERT is in flight for the next interval, not the next round trip", async () => {
    const job = await newJob();
    // The first append's answer is held back until the test lets it go, so "second" surely arrives
    // while that INSERT is in flight (as lines of a busy engine do).
    let releaseFirst = () => {};
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    let appendsSent = 0;
    const slow = t.ctx.db.withPlugin({
      transformQuery: (args) => args.node,
      async transformResult(args) {
        if (args.result.rows.some((r) => "byte_offset" in (r as object)) && ++appendsSent === 1)
          await firstHeld;
        return args.result;
      },
    });
    const writer = createLogWriter({ db: slow, jobId: job.id, flushIntervalMs: 10 * 60_000 });
    const stored = async () => (await readLog(t.ctx, job.id, 0)).chunks.map((c) => c.text);
    writer.write("first\n");
    await waitFor("the first chunk's INSERT to be sent", async () => appendsSent === 1);
    writer.write("second\n");
    releaseFirst();
    await waitFor("the first line to be stored", async () => writer.bytesWritten >= 6);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(appendsSent).toBe(1);
    expect(await stored()).toEqual(["first\n"]);
    await writer.close();
    expect(await stored()).toEqual(["first\n", "second\n"]);
  });

  it("does not repeat a chunk that committed although its answer was lost", async () => {
    const job = await newJob();
    // The real database stores the chunk; only the answer to the first append is lost on the way back,
    // as when the connection drops right after COMMIT.
    let answersLost = 0;
    const flaky = t.ctx.db.withPlugin({
      transformQuery: (args) => args.node,
      async transformResult(args) {
        if (answersLost === 0 && args.result.rows.some((r) => "byte_offset" in (r as object))) {
          answersLost++;
          throw new Error("Connection terminated unexpectedly");
        }
        return args.result;
      },
    });
    const errors: unknown[] = [];
    const writer = createLogWriter({
      db: flaky,
      jobId: job.id,
      flushIntervalMs: 20,
      onError: (e) => errors.push(e),
    });
    writer.write("first\n");
    await writer.flush();
    writer.write("second\n");
    await writer.close();
    expect(answersLost).toBe(1);
    expect(errors).toHaveLength(1);
    expect((await readLog(t.ctx, job.id, 0)).chunks.map((c) => c.text).join("")).toBe("first\nsecond\n");
    expect((await getJob(t.ctx, job.id)).logBytes).toBe(Buffer.byteLength("first\nsecond\n"));
  });

  it("moves what waits for an unreachable database to a private file, and stores it all in order once it is back", async () => {
    const job = await newJob();
    let down = true;
    const errors: unknown[] = [];
    // Refused before anything reaches the database, as when PostgreSQL is down.
    const unreachable = t.ctx.db.withPlugin({
      transformQuery(args) {
        if (down) throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
        return args.node;
      },
      transformResult: async (args) => args.result,
    });
    const spillDir = await mkdtemp(path.join(tmpdir(), "imapferry-spill-test-"));
    const writer = createLogWriter({
      db: unreachable,
      jobId: job.id,
      flushIntervalMs: 10,
      spillAfterBytes: 2000,
      spillDir,
      onError: (e) => errors.push(e),
    });
    const lines = Array.from(
      { length: 400 },
      (_, i) => `msg INBOX/${i} copied to INBOX/${i} — ${"x".repeat(30)}\n`,
    );
    writer.write(lines[0] ?? "");
    await waitFor("the first refused write", () => errors.length > 0);
    for (const line of lines.slice(1)) writer.write(line);
    // Most of it is on disk now, in a file only this user may read.
    const [spillFolder] = await readdir(spillDir);
    expect(spillFolder).toBeDefined();
    const file = path.join(spillDir, spillFolder ?? "", "pending.log");
    expect((await stat(file)).size).toBeGreaterThan(10_000);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readLog(t.ctx, job.id, 0)).chunks).toEqual([]);

    down = false;
    await writer.close();
    expect((await readLog(t.ctx, job.id, 0, 1 << 20)).chunks.map((c) => c.text).join("")).toBe(
      lines.join(""),
    );
    expect(await readdir(spillDir)).toEqual([]);
    // A long outage is a few warnings, not one per retry.
    expect(errors.length).toBeLessThan(12);
    await rm(spillDir, { recursive: true, force: true });
  });

  it("stores text with NUL bytes and escape-heavy chunks that would not fit a NOTIFY once escaped", async () => {
    const job = await newJob();
    const colours = `${"\u001b[0m".repeat(1500)}\n`;
    const writer = createLogWriter({ db: t.ctx.db, jobId: job.id });
    writer.write("binary\0junk\n");
    writer.write(colours);
    await writer.close();
    expect((await readLog(t.ctx, job.id, 0)).chunks.map((c) => c.text).join("")).toBe(
      `binary\uFFFDjunk\n${colours}`,
    );
  });

  it("stops writing once another run owns the job (the fence), and says so", async () => {
    const job = await newJob();
    await t.ctx.db
      .updateTable("jobs")
      .set({ status: "running", worker_id: "w1" })
      .where("id", "=", job.id)
      .execute();
    let lost = 0;
    const writer = createLogWriter({
      db: t.ctx.db,
      jobId: job.id,
      fence: { workerId: "w1", attempt: 1 },
      onLost: () => lost++,
    });
    writer.write("mine\n");
    await writer.flush();
    await t.ctx.db.updateTable("jobs").set({ worker_id: "w2" }).where("id", "=", job.id).execute();
    writer.write("not mine any more\n");
    await writer.close();
    expect(lost).toBe(1);
    expect((await readLog(t.ctx, job.id, 0)).chunks.map((c) => c.text).join("")).toBe("mine\n");
    await t.ctx.db.updateTable("jobs").set({ status: "failed" }).where("id", "=", job.id).execute();
  });
});

describe("progress", () => {
  it("folds parser events into the job's progress", () => {
    const p = emptyProgress(10);
    applyEvent(p, {
      type: "folder",
      index: 2,
      count: 5,
      source: "Sent",
      destination: "Sent",
      sourceDisplay: "Sent",
      destinationDisplay: "Sent",
    });
    applyEvent(p, {
      type: "message",
      action: "copied",
      folder: "Sent",
      uid: 1,
      size: 100,
      destinationFolder: "Sent",
      destinationUid: 1,
      messagesPerSecond: 4,
      bytesPerSecond: 400,
      bytesCopiedTotal: 100,
    });
    applyEvent(p, {
      type: "message",
      action: "skipped",
      folder: "Sent",
      uid: 2,
      size: 50,
      reason: "noheader",
    });
    applyEvent(p, { type: "eta", finishAt: null, etaSeconds: 12, messagesLeft: 8, messagesTotal: 10 });
    expect(p).toMatchObject({
      copied: 1,
      skipped: 1,
      total: 10,
      bytesCopied: 100,
      msgsPerSecond: 4,
      etaSeconds: 12,
      messagesLeft: 8,
      folder: "Sent",
      folderIndex: 2,
      folderCount: 5,
    });
    expect(applyEvent(p, { type: "log", line: "anything" })).toBe(false);
  });
});

describe("settings", () => {
  it("has defaults, stores validated changes and refuses bad ones without changing anything", async () => {
    expect(await getSettings(t.ctx)).toEqual(SETTINGS_DEFAULTS);
    expect(SETTINGS_DEFAULTS).toMatchObject({
      workerConcurrency: 4,
      defaultSourceHostLimit: 2,
      autoResume: true,
      maxResumeAttempts: 3,
    });
    const next = await updateSettings(t.ctx, {
      workerConcurrency: 6,
      notificationRecipients: ["ops@example.com"],
    });
    expect(next).toMatchObject({
      workerConcurrency: 6,
      notificationRecipients: ["ops@example.com"],
      defaultSourceHostLimit: 2,
    });
    await expectError(
      updateSettings(t.ctx, { workerConcurrency: 0, notificationRecipients: ["nope"] }),
      "BAD_INPUT",
    );
    await expectError(updateSettings(t.ctx, { unknownKey: 1 }), "BAD_INPUT");
    expect((await getSettings(t.ctx)).workerConcurrency).toBe(6);
  });
});
