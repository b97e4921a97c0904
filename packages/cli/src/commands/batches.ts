import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Batch, ImportOptions } from "@imapferry/sdk";
import { type Command, Option } from "commander";
import { CliError, EXIT, type ExitCode } from "../exit-codes.ts";
import { followBatch } from "../follow.ts";
import { batchCountsText, formatTable, formatTime, writeJson, writeLines } from "../output.ts";
import { resolveBatchId, type Session, withSession } from "../session.ts";

interface ImportCommandOptions {
  tag?: string;
  tenant?: string;
  real?: boolean;
  dryRun?: boolean;
  check?: boolean;
  skipInvalid?: boolean;
  verifyLogins?: boolean;
  follow?: boolean;
}

export function registerBatchCommands(program: Command): void {
  const batches = program.command("batches").description("Import and follow batches of mailboxes");

  batches.command("list").description("The newest batches first").action(withSession(listBatches));

  batches
    .command("show")
    .argument("<batch>", "the batch's id or tag")
    .description("A batch's jobs per status")
    .action(withSession(showBatch));

  batches
    .command("import")
    .argument("<file>", 'the CSV file (the panel\'s template format), or "-" for standard input')
    .description("Import a CSV of mailboxes as one batch: all rows or none (see --skip-invalid)")
    .option("--tag <tag>", "the batch's tag (generated when absent)")
    .option("--tenant <tenant>", "the tenant the jobs belong to")
    .addOption(new Option("--real", "copy mail (rows without a dry_run value)").conflicts("dryRun"))
    .addOption(
      new Option("--dry-run", "only connect and count (the default for rows without a dry_run value)"),
    )
    .option("--check", "check the file and print every problem; import nothing")
    .option("--skip-invalid", "import the valid rows and list the others")
    .option("--verify-logins", "log in to both sides of every row before importing")
    .option("--follow", "follow the batch until it ends; the exit code tells how it ended")
    .action(withSession<ImportCommandOptions>(importBatch));

  batches
    .command("follow")
    .argument("<batch>", "the batch's id or tag")
    .description(
      "Show progress live until the batch ends; exit 0 if all are done, 6 if some are incomplete, 7 if some failed",
    )
    .action(
      withSession(async ({ client, out }, args) => {
        const followed = await followBatch(client, await resolveBatchId(client, args[0] ?? ""), out);
        if (out.json) writeJson(out, followed.batch);
        return followed.exitCode;
      }),
    );

  program
    .command("report")
    .argument("<batch>", "the batch's id or tag")
    .description(
      "The batch report as CSV: one row per mailbox with counts on both sides, outcome and reasons",
    )
    .option("-o, --output <file>", "write to this file instead of standard output")
    .action(withSession<{ output?: string }>(downloadReport));
}

async function listBatches({ client, out }: Session): Promise<void> {
  const page = await client.batches.list.query({});
  if (out.json) return writeJson(out, page);
  if (page.items.length === 0) return writeLines(out.stderr, ["No batches."]);
  writeLines(
    out.stdout,
    formatTable(
      ["ID", "TAG", "CREATED", "MAILBOXES", "JOBS"],
      page.items.map((b: Batch) => [
        String(b.id),
        b.tag,
        formatTime(b.createdAt),
        String(b.total),
        batchCountsText(b),
      ]),
    ),
  );
}

async function showBatch({ client, out }: Session, args: string[]): Promise<void> {
  const batch = await client.batches.get.query({ id: await resolveBatchId(client, args[0] ?? "") });
  if (out.json) return writeJson(out, batch);
  writeLines(out.stdout, [
    `Batch ${batch.id}: ${batch.tag}`,
    `  Mailboxes   ${batch.total}`,
    `  Jobs        ${batchCountsText(batch)}`,
    ...(batch.tenant ? [`  Tenant      ${batch.tenant}`] : []),
    `  Created     ${formatTime(batch.createdAt)}`,
  ]);
}

async function readCsv(file: string): Promise<string> {
  try {
    if (file !== "-") return await readFile(file, "utf8");
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  } catch (e: unknown) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(
      EXIT.usage,
      `Cannot read ${file}: ${code === "ENOENT" ? "no such file" : (code ?? String(e))}.`,
    );
  }
}

async function importBatch(
  { client, out }: Session,
  args: string[],
  options: ImportCommandOptions,
): Promise<ExitCode | void> {
  const csv = await readCsv(args[0] ?? "");
  const request: ImportOptions = {
    ...(options.tag ? { tag: options.tag } : {}),
    ...(options.tenant ? { tenant: options.tenant } : {}),
    ...(options.real ? { dryRun: false } : options.dryRun ? { dryRun: true } : {}),
    ...(options.skipInvalid ? { skipInvalid: true } : {}),
    ...(options.verifyLogins ? { verifyLogins: true } : {}),
  };
  if (options.check) {
    const preview = await client.batches.preview.mutate({ ...request, csv });
    if (out.json) writeJson(out, preview);
    else {
      writeLines(out.stdout, [
        `${preview.rowCount} rows: ${preview.validCount} can be imported (${preview.realCount} real, ${preview.dryRunCount} dry runs), ${preview.rejectedCount} have problems.`,
        ...preview.errors.map((e) => `  line ${e.line}${e.column ? `, ${e.column}` : ""}: ${e.reason}`),
        ...(preview.errorCount > preview.errors.length
          ? [`  … and ${preview.errorCount - preview.errors.length} more.`]
          : []),
      ]);
    }
    return preview.ok ? EXIT.ok : EXIT.refused;
  }
  const result = await client.batches.import.mutate({ ...request, csv });
  const summary = [
    `Imported ${result.jobCount} mailboxes as batch ${result.batch.tag} (${result.batch.id}): ${result.realCount} real, ${result.dryRunCount} dry runs.`,
    ...(result.dryRunCount > 0 && !options.real
      ? ["Dry runs only connect and count; import with --real to copy mail."]
      : []),
    ...result.rejected.flatMap((r) =>
      r.errors.map((e) => `  left out line ${e.line}${e.column ? `, ${e.column}` : ""}: ${e.reason}`),
    ),
  ];
  if (!options.follow) {
    if (out.json) writeJson(out, result);
    else writeLines(out.stdout, summary);
    return result.rejected.length > 0 ? EXIT.refused : EXIT.ok;
  }
  writeLines(out.stderr, summary);
  const followed = await followBatch(client, result.batch.id, out);
  if (out.json) writeJson(out, { ...result, batch: followed.batch });
  // Rows left out are work not done: a script must not read "all done" when some mailboxes never ran.
  return result.rejected.length > 0 && followed.exitCode === EXIT.ok ? EXIT.refused : followed.exitCode;
}

async function downloadReport(
  { client, out }: Session,
  args: string[],
  options: { output?: string },
): Promise<void> {
  const id = await resolveBatchId(client, args[0] ?? "");
  if (out.json) return writeJson(out, await client.batches.report.query({ id }));
  const response = await client.downloadBatchReport(id);
  if (!response.body) throw new CliError(EXIT.unexpected, `The report of batch ${id} came back empty.`);
  const body = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>);
  if (options.output) {
    await pipeline(body, createWriteStream(options.output));
    out.stderr.write(`Wrote the report of batch ${id} to ${options.output}.\n`);
  } else {
    await pipeline(body, out.stdout);
  }
}
