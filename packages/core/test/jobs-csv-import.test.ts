import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImapsyncArgs } from "../src/engines/imapsync/args.ts";
import { isImapferryError } from "../src/errors.ts";
import { updateBatch } from "../src/services/batches/index.ts";
import { csvTemplate, importBatch, previewImport } from "../src/services/csv-import/csv-import.ts";
import { bulkJobs, listJobs } from "../src/services/jobs/index.ts";
import { createServer } from "../src/services/servers/servers.ts";
import { updateSettings } from "../src/services/settings/settings.ts";
import { createJobTestContext, type JobTestContext } from "./support/job-context.ts";

let t: JobTestContext;
let sourceId: number;

const HEADER = "sourceServerId,sourceEmail,sourcePassword,destServerId,destEmail,destPassword";

async function counts() {
  const jobs = await t.ctx.db
    .selectFrom("jobs")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow();
  const batches = await t.ctx.db
    .selectFrom("batches")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow();
  // Migration entries only: cancelling or deleting a batch also queues its (one) summary check.
  const entries = await sql<{ n: string }>`
    select count(*) as n from graphile_worker.jobs where task_identifier like 'migrate%'`.execute(t.ctx.db);
  return { jobs: Number(jobs.n), batches: Number(batches.n), entries: Number(entries.rows[0]?.n) };
}

beforeAll(async () => {
  t = await createJobTestContext();
  sourceId = (await createServer(t.ctx, { name: "Old IMAP", host: "imap.old.example" })).id;
  await createServer(t.ctx, { name: "new", host: "imap.new.example" });
});
afterAll(async () => {
  await t?.close();
});

describe("CSV import", () => {
  it("reads quoted fields, commas and quotes in passwords, CRLF, a BOM, server names and ids", async () => {
    const csv =
      "\uFEFF" +
      `${HEADER},name,dryRun\r\n` +
      `${sourceId},a@old.example,"pa,ss ""word""",new,a@new.example,plain,Alice,false\r\n` +
      `old imap,b@old.example,"multi\r\nline?",new,b@new.example," spaced ",,\r\n` +
      "\r\n";
    const preview = await previewImport(t.ctx, { csv });
    expect(preview.errors).toEqual([
      { line: 3, column: "sourcePassword", reason: "The password contains a line break or NUL character." },
    ]);

    const good = `\uFEFF${HEADER},name,dryRun\r\n${sourceId},a@old.example,"pa,ss ""word""",new,a@new.example,plain,Alice,false\r\nOLD IMAP,b@old.example,x,new,b@new.example," spaced ",,\r\n`;
    const ok = await previewImport(t.ctx, { csv: good });
    expect(ok).toMatchObject({ rowCount: 2, ok: true, errors: [] });
    expect(JSON.stringify(ok)).not.toContain("pa,ss");
    const before = await counts();
    expect(before.jobs).toBe(0);
    const result = await importBatch(t.ctx, { csv: good, tag: "wave-a" });
    expect(result.jobCount).toBe(2);
    expect(result.batch).toMatchObject({ tag: "wave-a", dryRun: true, total: 2 });
    const rows = await t.ctx.db.selectFrom("jobs").selectAll().orderBy("id").execute();
    expect(
      rows.map((r) => [
        r.name,
        r.dry_run,
        t.ctx.vault.decrypt(r.source_secret ?? ""),
        t.ctx.vault.decrypt(r.dest_secret ?? ""),
      ]),
    ).toEqual([
      ["Alice", false, 'pa,ss "word"', "plain"],
      ["b@old.example → b@new.example", true, "x", " spaced "],
    ]);
    expect((await counts()).entries).toBe(2);
  });

  it("reports every bad row with its line, column and reason, and writes nothing", async () => {
    const csv = [
      HEADER,
      `${sourceId},ok@old.example,p,new,ok@new.example,p`,
      "nosuch,c@old.example,p,new,c@new.example,p",
      `${sourceId},-not-a-login,p,new,d@new.example,p`,
      `${sourceId},e@old.example,,new,e@new.example,p`,
      `${sourceId},OK@old.example,p,new,ok@new.example,q`,
      `${sourceId},f@old.example,p,new`,
      `"${sourceId}","g@old.example","p","new","g@new.example","p"`,
    ].join("\n");
    const before = await counts();
    const preview = await previewImport(t.ctx, { csv });
    expect(preview.rowCount).toBe(7);
    expect(preview.errors).toEqual([
      {
        line: 3,
        column: "sourceServerId",
        reason: 'Unknown server "nosuch": no server has this id or name.',
      },
      { line: 4, column: "sourceEmail", reason: '"-not-a-login" starts with "-", which no login may.' },
      {
        line: 5,
        column: "sourcePassword",
        reason: "The source server has no admin credentials, so the source password is required.",
      },
      { line: 6, column: null, reason: "Duplicate of line 2: the same source and destination mailboxes." },
      {
        line: 7,
        column: null,
        reason: "This row has 4 fields; the header has 6. Quote values that contain commas.",
      },
    ]);
    try {
      await importBatch(t.ctx, { csv, tag: "bad" });
      throw new Error("expected BAD_INPUT");
    } catch (e: unknown) {
      expect(isImapferryError(e) && e.code).toBe("BAD_INPUT");
      expect(isImapferryError(e) && e.problems).toHaveLength(5);
      expect((e as Error).message).toMatch(/5 problems; nothing was imported/);
    }
    expect(await counts()).toEqual(before);
  });

  it("takes engine options from option columns, the batch and the settings, in that order, into each job's options and argv", async () => {
    await updateSettings(t.ctx, { defaultEngineOptions: { maxAgeDays: 3650, automap: true, errorsMax: 7 } });
    try {
      const csv = [
        `${HEADER},addHeader,maxAgeDays,folders,folderMap,errorsMax`,
        `${sourceId},opt1@old.example,p,new,opt1@new.example,p,false,30,INBOX;Sent Items,Sent Items=Sent;Deleted=Trash,`,
        `${sourceId},opt2@old.example,p,new,opt2@new.example,p,,,,,`,
      ].join("\n");
      const preview = await previewImport(t.ctx, { csv, options: { errorsMax: 9, subscribedOnly: true } });
      expect(preview.sample[0]?.setOptions).toEqual(
        expect.arrayContaining([
          { key: "addHeader", value: false, origin: "row" },
          { key: "errorsMax", value: 9, origin: "batch" },
          { key: "automap", value: true, origin: "settings" },
        ]),
      );
      const result = await importBatch(t.ctx, {
        csv,
        tag: "options",
        options: { errorsMax: 9, subscribedOnly: true },
      });
      const jobs = await t.ctx.db
        .selectFrom("jobs")
        .select(["source_email", "options"])
        .where("batch_id", "=", result.batch.id)
        .orderBy("id")
        .execute();
      // Row 1: its own cells win; errorsMax from the batch; automap from the settings.
      expect(jobs[0]?.options).toMatchObject({
        addHeader: false,
        maxAgeDays: 30,
        folders: ["INBOX", "Sent Items"],
        folderMap: [
          { from: "Sent Items", to: "Sent" },
          { from: "Deleted", to: "Trash" },
        ],
        errorsMax: 9,
        subscribedOnly: true,
        automap: true,
      });
      // Row 2: nothing of its own; the batch over the settings, the built-in default for the rest.
      expect(jobs[1]?.options).toMatchObject({
        addHeader: true,
        maxAgeDays: 3650,
        errorsMax: 9,
        automap: true,
      });
      const views = (await listJobs(t.ctx, { batchId: result.batch.id, sort: "name", direction: "asc" }))
        .items;
      expect(views[0]?.optionOrigins).toEqual({
        addHeader: "row",
        maxAgeDays: "row",
        folders: "row",
        folderMap: "row",
        errorsMax: "batch",
        subscribedOnly: "batch",
        automap: "settings",
      });

      // The batch's options change: the job not started yet takes them under its own; a rerun too.
      await bulkJobs(t.ctx, { action: "cancel", ids: [views[1]!.id] });
      const changed = await updateBatch(t.ctx, { id: result.batch.id, options: { errorsMax: 11 } });
      expect(changed.defaults).toEqual({ errorsMax: 11 });
      const [first] = (await listJobs(t.ctx, { batchId: result.batch.id, sort: "name", direction: "asc" }))
        .items;
      expect(first?.options).toMatchObject({
        addHeader: false,
        maxAgeDays: 30,
        errorsMax: 11,
        automap: true,
      });
      expect(first?.options).not.toHaveProperty("subscribedOnly", true);
      const rerun = await bulkJobs(t.ctx, { action: "rerun", ids: [views[1]!.id] });
      const again = (await listJobs(t.ctx, { batchId: result.batch.id })).items.find(
        (j) => j.id === rerun.results[0]?.newJobId,
      );
      expect(again?.options).toMatchObject({ errorsMax: 11, maxAgeDays: 3650 });
      expect(again?.optionOrigins).toMatchObject({ errorsMax: "batch", maxAgeDays: "settings" });
      await expect(
        updateBatch(t.ctx, { id: result.batch.id, options: { minAgeDays: -1 } }),
      ).rejects.toMatchObject({
        code: "BAD_INPUT",
      });

      const endpoint = {
        host: "h",
        port: 993,
        security: "tls" as const,
        acceptSelfSigned: false,
        user: "u",
        password: "p",
      };
      const argv = buildImapsyncArgs({
        source: endpoint,
        destination: endpoint,
        dryRun: false,
        options: jobs[0]!.options,
      });
      expect(argv).toEqual(
        expect.arrayContaining(["--maxage", "30", "--errorsmax", "9", "--automap", "--subscribed"]),
      );
      expect(argv).not.toContain("--addheader");
    } finally {
      await updateSettings(t.ctx, { defaultEngineOptions: {} });
    }
  });

  it("refuses an unknown column by name, and a bad option cell by line and column, writing nothing", async () => {
    const before = await counts();
    const misspelt = await previewImport(t.ctx, {
      csv: `${HEADER},addHeaders\n${sourceId},x@old.example,p,new,x@new.example,p,true`,
    });
    expect(misspelt.errors).toHaveLength(1);
    expect(misspelt.errors[0]).toMatchObject({ line: 1, column: "addHeaders" });
    expect(misspelt.errors[0]?.reason).toMatch(
      /^The column "addHeaders" is not known\. Columns are sourceServerId, /,
    );
    const bad = await previewImport(t.ctx, {
      csv: [
        `${HEADER},addHeader,maxAgeDays,minAgeDays,folderMap`,
        `${sourceId},y@old.example,p,new,y@new.example,p,maybe,,,`,
        `${sourceId},z@old.example,p,new,z@new.example,p,,10,20,`,
        `${sourceId},w@old.example,p,new,w@new.example,p,,,,Sent`,
      ].join("\n"),
    });
    expect(bad.errors).toEqual([
      { line: 2, column: "addHeader", reason: '"maybe" is not true or false.' },
      { line: 3, column: "minAgeDays", reason: "minAgeDays must be smaller than maxAgeDays." },
      { line: 4, column: "folderMap", reason: '"Sent" is not a from=to pair of folder names.' },
    ]);
    await expect(
      importBatch(t.ctx, {
        csv: `${HEADER}\n${sourceId},v@old.example,p,new,v@new.example,p`,
        options: { pipemess: "x" },
      }),
    ).rejects.toMatchObject({ code: "BAD_INPUT" });
    expect(await counts()).toEqual(before);
  });

  it("reads a spreadsheet's semicolon export, and names the rows a non-UTF-8 export garbled", async () => {
    const semicolons = `${HEADER.replaceAll(",", ";")};name\r\n${sourceId};semi@old.example;"p;w";new;semi@new.example;p;Zoë\r\n`;
    const preview = await previewImport(t.ctx, { csv: semicolons });
    expect(preview).toMatchObject({ ok: true, rowCount: 1 });
    expect(preview.sample[0]).toMatchObject({ sourceEmail: "semi@old.example", name: "Zoë" });

    const latin1 = Buffer.from(
      `${HEADER},name\n${sourceId},l@old.example,p,new,l@new.example,p,Zo\xeb\n`,
      "latin1",
    );
    const garbled = await previewImport(t.ctx, { csv: new TextDecoder("utf-8").decode(latin1) });
    expect(garbled.errors).toEqual([
      {
        line: 2,
        column: "name",
        reason:
          "This row has characters that are not UTF-8 (shown as �). Save the file as UTF-8 (in Excel: CSV UTF-8) and import it again.",
      },
    ]);
  });

  it("names a missing column and refuses an empty file", async () => {
    const missing = await previewImport(t.ctx, {
      csv: "sourceServerId,sourceEmail,sourcePassword,destServerId,destEmail\n1,a@b.example,p,1,c@d.example\n",
    });
    expect(missing.errors).toEqual([
      { line: 1, column: "destPassword", reason: expect.stringContaining('no "destPassword" column') },
    ]);
    expect((await previewImport(t.ctx, { csv: "" })).errors[0]?.reason).toMatch(/empty/);
    expect((await previewImport(t.ctx, { csv: `${HEADER}\n` })).errors[0]?.reason).toMatch(/no rows/);
    expect(
      (await previewImport(t.ctx, { csv: `${HEADER}\n1,"unclosed,p,1,c@d.example,p\n` })).errors[0]?.reason,
    ).toMatch(/not valid CSV/);
  });

  it("offers a template that previews cleanly once its server names exist", async () => {
    await createServer(t.ctx, { name: "old-imap", host: "a.example" });
    await createServer(t.ctx, { name: "new-imap", host: "b.example" });
    const preview = await previewImport(t.ctx, { csv: csvTemplate() });
    expect(preview).toMatchObject({ rowCount: 1, ok: true });
  });

  it("imports a valid 10,000-row file completely, with a queue entry per job, in one batch", async () => {
    const lines = [HEADER];
    for (let i = 0; i < 10_000; i++)
      lines.push(`${sourceId},user${i}@old.example,"pw,${i}",new,user${i}@new.example,pw${i}`);
    const csv = lines.join("\r\n");
    const before = await counts();
    const started = Date.now();
    const preview = await previewImport(t.ctx, { csv });
    expect(preview).toMatchObject({ rowCount: 10_000, ok: true });
    const result = await importBatch(t.ctx, { csv, tag: "big" });
    const elapsed = Date.now() - started;
    expect(result.jobCount).toBe(10_000);
    expect(result.batch.counts.queued).toBe(10_000);
    const after = await counts();
    expect(after.jobs - before.jobs).toBe(10_000);
    expect(after.entries - before.entries).toBe(10_000);
    expect((await listJobs(t.ctx, { batchId: result.batch.id, limit: 1 })).items[0]?.sourceEmail).toBe(
      "user9999@old.example",
    );
    // Not a timing assertion (benchmarks measure that); recorded for the run's output.
    console.log(`10,000-row preview + import: ${elapsed} ms`);

    // The whole batch through the bulk actions: cancel (all leave the queue), rerun, hard delete.
    const cancelled = await bulkJobs(t.ctx, { action: "cancel", batchId: result.batch.id });
    expect(cancelled).toMatchObject({ succeeded: 10_000, failed: 0 });
    expect((await counts()).entries).toBe(before.entries);
    const rerun = await bulkJobs(t.ctx, { action: "rerun", batchId: result.batch.id, dryRun: false });
    expect(rerun.succeeded).toBe(10_000);
    expect((await counts()).entries).toBe(before.entries + 10_000);
    const removed = await bulkJobs(t.ctx, { action: "delete", batchId: result.batch.id, hard: true });
    expect(removed.succeeded).toBe(20_000);
    expect(await counts()).toMatchObject({ jobs: before.jobs, entries: before.entries });
  });
});
