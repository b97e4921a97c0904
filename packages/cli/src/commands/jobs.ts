import type { ImapferryClient, Job, JobReport } from "@imapferry/sdk";
import { type Command, Option } from "commander";
import { CliError, EXIT } from "../exit-codes.ts";
import { followJobs } from "../follow.ts";
import {
  formatBytes,
  formatTable,
  formatTime,
  jobProgressText,
  type Output,
  writeJson,
  writeLines,
} from "../output.ts";
import { askHidden } from "../secret-input.ts";
import { parseId, resolveBatchId, type Session, withSession } from "../session.ts";

interface ListOptions {
  status?: string[];
  batch?: string;
  search?: string;
  limit: string;
  allRuns?: boolean;
}

interface CreateOptions {
  from: string;
  fromLogin: string;
  to: string;
  toLogin: string;
  name?: string;
  real?: boolean;
  batch?: string;
  askPasswords?: boolean;
  askOwner?: string;
  ownerLink?: boolean;
  follow?: boolean;
}

interface RerunOptions {
  real?: boolean;
  dryRun?: boolean;
  follow?: boolean;
}

export function registerJobCommands(program: Command): void {
  const jobs = program
    .command("jobs")
    .description("List, create, follow, cancel, resume and rerun migrations");

  jobs
    .command("list")
    .description("The newest jobs first")
    .option(
      "--status <status...>",
      "only jobs with these statuses (queued, running, waiting, done, incomplete, failed, …)",
    )
    .option("--batch <id-or-tag>", "only the jobs of this batch")
    .option("--search <text>", "match the name, both logins and both servers' names")
    .option("--limit <n>", "how many", "50")
    .option("--all-runs", "also runs a later rerun of the same mailbox replaced")
    .action(withSession<ListOptions>(listJobs));

  jobs
    .command("show")
    .argument("<id>", "the job's id")
    .description("A job's state, outcome and the check of the destination, folder by folder")
    .action(withSession(showJob));

  jobs
    .command("create")
    .description(
      "Queue one mailbox migration. Passwords come from IMAPFERRY_SOURCE_PASSWORD and IMAPFERRY_DEST_PASSWORD, or --ask-passwords (never the command line); a server with admin credentials needs none.",
    )
    .requiredOption("--from <server>", "source server: its id or name")
    .requiredOption("--from-login <login>", "the source mailbox's login")
    .requiredOption("--to <server>", "destination server: its id or name")
    .requiredOption("--to-login <login>", "the destination mailbox's login")
    .option("--name <name>", "a label for the job")
    .addOption(
      new Option("--real", "copy mail (without it the job is a dry run that only connects and counts)"),
    )
    .option("--batch <id-or-tag>", "add the job to this batch")
    .option("--ask-passwords", "ask for the passwords on the terminal")
    .option("--ask-owner <email>", "no source password: email the mailbox's owner a link to enter it")
    .option("--owner-link", "no source password: print a link for the mailbox's owner to enter it")
    .option("--follow", "follow the job until it ends; the exit code tells how it ended")
    .action(withSession<CreateOptions>(createJob));

  jobs
    .command("cancel")
    .argument("<ids...>", "job ids")
    .description("Cancel queued, running or waiting jobs")
    .action(withSession(cancelJobs));

  jobs
    .command("resume")
    .argument("<ids...>", "job ids")
    .description("Resume waiting jobs now instead of at their resume time")
    .action(withSession(resumeJobs));

  jobs
    .command("rerun")
    .argument("<ids...>", "job ids")
    .description("Run ended jobs again as new runs (a rerun copies only what is not there yet)")
    .addOption(new Option("--real", "run for real (after a dry run)").conflicts("dryRun"))
    .addOption(new Option("--dry-run", "run as a dry run"))
    .option("--follow", "follow the new runs until they end; the exit code tells how they ended")
    .action(withSession<RerunOptions>(rerunJobs));

  jobs
    .command("follow")
    .argument("<ids...>", "job ids")
    .description(
      "Show progress live until the jobs end; exit 0 if all are done, 6 if some are incomplete, 7 if some failed",
    )
    .action(
      withSession(async ({ client, out }, args) => {
        const ids = args.map((a) => parseId(a, "A job id"));
        return finish(out, await followJobs(client, ids, out));
      }),
    );
}

async function listJobs({ client, out }: Session, _args: string[], options: ListOptions): Promise<void> {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new CliError(EXIT.usage, `--limit must be a whole number from 1 to 500 (got "${options.limit}").`);
  }
  const page = await client.jobs.list.query({
    limit,
    ...(options.status ? { status: options.status as Job["status"][] } : {}),
    ...(options.batch ? { batchId: await resolveBatchId(client, options.batch) } : {}),
    ...(options.search ? { q: options.search } : {}),
    ...(options.allRuns ? { includeSuperseded: true } : {}),
  });
  if (out.json) return writeJson(out, page);
  if (page.items.length === 0) return writeLines(out.stderr, ["No jobs."]);
  writeLines(
    out.stdout,
    formatTable(
      ["ID", "STATUS", "CREATED", "PROGRESS", "NAME"],
      page.items.map((j) => [String(j.id), j.status, formatTime(j.createdAt), jobProgressText(j), j.name]),
    ),
  );
}

async function showJob({ client, out }: Session, args: string[]): Promise<void> {
  const id = parseId(args[0] ?? "", "The job id");
  const [job, report] = await Promise.all([client.jobs.get.query({ id }), client.jobs.report.query({ id })]);
  if (out.json) return writeJson(out, { job, report });
  writeLines(out.stdout, describeJob(job, report));
}

function describeJob(job: Job, report: JobReport): string[] {
  const rows: [string, string][] = [
    ["Status", job.status + (job.resumeAt ? ` (resumes ${formatTime(job.resumeAt)})` : "")],
    ["Source", `${job.sourceEmail} on ${job.sourceServerName ?? `server ${job.sourceServerId}`}`],
    ["Destination", `${job.destEmail} on ${job.destServerName ?? `server ${job.destServerId}`}`],
    ["Mode", job.dryRun ? "dry run" : "real"],
    ["Batch", job.batchTag ? `${job.batchTag} (${job.batchId})` : ""],
    ["Progress", jobProgressText(job)],
    ["Attempt", String(job.attempt)],
    ["Created", formatTime(job.createdAt)],
    ["Started", formatTime(job.startedAt)],
    ["Finished", formatTime(job.finishedAt)],
    ["Outcome", job.errorMessage ?? ""],
  ];
  const lines = [
    `Job ${job.id}: ${job.name}`,
    ...rows.filter(([, v]) => v !== "").map(([k, v]) => `  ${k.padEnd(12)}${v}`),
  ];
  const check = report.verification;
  if (check) {
    lines.push(
      "",
      `Check of the destination (${formatTime(check.checkedAt)}): ${check.destMessages} of ${check.sourceMessages} source messages there, ${check.missing} missing.`,
      ...formatTable(
        ["FOLDER", "SOURCE", "DESTINATION", "MISSING"],
        check.folders.map((f) => [
          f.folder,
          `${f.sourceMessages} (${formatBytes(f.sourceBytes)})`,
          `${f.destMessages} (${formatBytes(f.destBytes)})`,
          String(f.missing),
        ]),
      ).map((l) => `  ${l}`),
    );
    for (const [reason, count] of Object.entries(check.reasons)) lines.push(`  missing ${count}: ${reason}`);
  }
  return lines;
}

/** A server by id or by its (case-insensitive) name; ambiguous or unknown names are usage errors. */
async function resolveServerId(client: ImapferryClient, idOrName: string, side: string): Promise<number> {
  if (/^[1-9]\d*$/.test(idOrName)) return Number(idOrName);
  const servers = await client.servers.list.query();
  const matches = servers.filter((s) => s.name.toLowerCase() === idOrName.toLowerCase());
  if (matches.length === 1) return (matches[0] as (typeof matches)[number]).id;
  const known = servers.map((s) => `${s.name} (${s.id})`).join(", ") || "none";
  throw new CliError(
    EXIT.usage,
    matches.length === 0
      ? `No ${side} server is named "${idOrName}". Servers: ${known}.`
      : `${matches.length} servers are named "${idOrName}"; give the ${side} server's id instead.`,
  );
}

async function password(envName: string, ask: boolean, label: string): Promise<string | undefined> {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  return ask ? await askHidden(`${label} password: `) : undefined;
}

async function createJob(session: Session, _args: string[], options: CreateOptions) {
  const { client, out } = session;
  const [sourceServerId, destServerId] = await Promise.all([
    resolveServerId(client, options.from, "source"),
    resolveServerId(client, options.to, "destination"),
  ]);
  const ask = Boolean(options.askPasswords);
  const askOwner =
    options.askOwner || options.ownerLink
      ? { ...(options.askOwner ? { email: options.askOwner } : {}), returnLink: Boolean(options.ownerLink) }
      : undefined;
  // The owner enters the source password through the link: nothing to ask here.
  const sourcePassword = askOwner
    ? undefined
    : await password("IMAPFERRY_SOURCE_PASSWORD", ask, `Source (${options.fromLogin})`);
  const destPassword = await password("IMAPFERRY_DEST_PASSWORD", ask, `Destination (${options.toLogin})`);
  const job = await client.jobs.create.mutate({
    sourceServerId,
    sourceEmail: options.fromLogin,
    destServerId,
    destEmail: options.toLogin,
    dryRun: !options.real,
    ...(sourcePassword ? { sourcePassword } : {}),
    ...(destPassword ? { destPassword } : {}),
    ...(askOwner ? { askOwner } : {}),
    ...(options.name ? { name: options.name } : {}),
    ...(options.batch ? { batchId: await resolveBatchId(client, options.batch) } : {}),
  });
  if (job.status === "awaiting_credentials") {
    if (out.json) return writeJson(out, job);
    const link = job.credentialRequest?.url;
    return writeLines(out.stdout, [
      `Job ${job.id} (${job.name}) is waiting for its owner's password${options.askOwner ? `; the link went to ${options.askOwner}` : ""}.`,
      ...(link ? [`Link for the owner (shown once): ${link}`] : []),
    ]);
  }
  if (!options.follow) {
    if (out.json) return writeJson(out, job);
    return writeLines(out.stdout, [
      `Queued job ${job.id} (${job.name})${job.dryRun ? " as a dry run" : ""}.`,
    ]);
  }
  out.stderr.write(`Queued job ${job.id} (${job.name})${job.dryRun ? " as a dry run" : ""}.\n`);
  return finish(out, await followJobs(client, [job.id], out));
}

/** One mutation per job id, in order; then the jobs as JSON, or a line each. */
async function eachJob<J extends { id: number; name: string }>(
  { out }: Session,
  args: string[],
  act: (id: number) => Promise<J>,
  say: (job: J) => string,
): Promise<void> {
  const ids = args.map((a) => parseId(a, "A job id"));
  const jobs: J[] = [];
  for (const id of ids) jobs.push(await act(id));
  if (out.json) return writeJson(out, jobs);
  writeLines(
    out.stdout,
    jobs.map((j) => `Job ${j.id} (${j.name}): ${say(j)}.`),
  );
}

function cancelJobs(session: Session, args: string[]): Promise<void> {
  return eachJob(
    session,
    args,
    (id) => session.client.jobs.cancel.mutate({ id }),
    (j) => (j.status === "cancelled" ? "cancelled" : "cancelling"),
  );
}

function resumeJobs(session: Session, args: string[]): Promise<void> {
  return eachJob(
    session,
    args,
    (id) => session.client.jobs.resume.mutate({ id }),
    () => "resuming now",
  );
}

async function rerunJobs({ client, out }: Session, args: string[], options: RerunOptions) {
  const ids = args.map((a) => parseId(a, "A job id"));
  const dryRun = options.real ? false : options.dryRun ? true : undefined;
  const runs = [];
  for (const id of ids)
    runs.push(await client.jobs.rerun.mutate({ id, ...(dryRun === undefined ? {} : { dryRun }) }));
  const queued = runs.map((j, i) => `Job ${ids[i]} rerun as job ${j.id}${j.dryRun ? " (dry run)" : ""}.`);
  if (!options.follow) {
    if (out.json) return writeJson(out, runs);
    return writeLines(out.stdout, queued);
  }
  writeLines(out.stderr, queued);
  return finish(
    out,
    await followJobs(
      client,
      runs.map((j) => j.id),
      out,
    ),
  );
}

function finish(out: Output, followed: Awaited<ReturnType<typeof followJobs>>) {
  if (out.json) writeJson(out, followed.jobs);
  return followed.exitCode;
}
