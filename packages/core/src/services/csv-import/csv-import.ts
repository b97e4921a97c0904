import type { OptionOrigin } from "@imapferry/db";
import { parse as parseCsv } from "csv-parse/sync";
import { sql } from "kysely";
import type { ServiceContext } from "../../context.ts";
import type { OptionLayers } from "../../engines/option-layers.ts";
import { ImapferryError } from "../../errors.ts";
import { CHANNELS } from "../../events/channels.ts";
import { enqueueJobs } from "../../queue/queue-entries.ts";
import { type BatchView, defaultBatchTag, getBatch, mapDuplicateTag } from "../batches/batches.ts";
import { issueLinkIn, type OwnerLinkConfig } from "../credential-requests/issue-link.ts";
import { DEFAULT_LINK_HOURS, ownerEmailSchema } from "../credential-requests/schemas.ts";
import { delegatedGrant, encryptDelegatedGrant } from "../jobs/delegated-oauth2.ts";
import { routePool } from "../jobs/jobs.ts";
import { passwordRequiredSentence } from "../jobs/schemas.ts";
import { lockServersForShare } from "../servers/credential-binding.ts";
import { getSettings } from "../settings/settings.ts";
import { hasControlCharacter, loginProblem, parseInput } from "../validation.ts";
import {
  CSV_COLUMNS,
  CSV_OAUTH2_COLUMNS,
  CSV_OPTION_COLUMNS,
  CSV_OWNER_COLUMNS,
  CSV_REQUIRED_COLUMNS,
  type CsvColumn,
  type CsvOptionColumn,
} from "./columns.ts";
import { type CsvGrant, readCsvGrant } from "./oauth2-columns.ts";
import { OPTION_COLUMN_BY_NAME, rowOptions } from "./option-columns.ts";
import { importCsvInputSchema } from "./schemas.ts";
import { type RowLoginCheck, verifyLogins } from "./verify-logins.ts";

/** Large enough for any real migration wave; bigger files are split by the operator. */
export const CSV_MAX_ROWS = 50_000;

export interface CsvRowError {
  /** 1-based line in the file where the row starts (the header is line 1). */
  line: number;
  /** The column at fault, or null for a problem with the whole row or file. */
  column: string | null;
  reason: string;
}

/** A row as it will be imported; the preview's sample shows it without passwords. */
export interface CsvRowSummary {
  line: number;
  name: string;
  sourceServerId: number;
  sourceServerName: string;
  sourceEmail: string;
  destServerId: number;
  destServerName: string;
  destEmail: string;
  dryRun: boolean;
  /** The engine options some level sets for this row (its columns, the batch, the settings), and from where. */
  setOptions: { key: string; value: unknown; origin: OptionOrigin }[];
}

/** A data row that cannot be imported, with every reason; `index` counts data rows from 0. */
export interface RejectedRow {
  index: number;
  line: number;
  errors: CsvRowError[];
}

/** What an import does with the rows it can import: how many run for real, how many as dry runs. */
export interface ImportPlan {
  /** Rows that can be imported. */
  validCount: number;
  /** Of those, rows that copy mail (their dryRun column, else the import's default, is false). */
  realCount: number;
  /** Of those, rows that only connect and count. */
  dryRunCount: number;
  /** Data rows with at least one problem. */
  rejectedCount: number;
}

export interface ImportPreview extends ImportPlan {
  /** Data rows in the file (the header and empty lines not counted). */
  rowCount: number;
  /** The first MAX_REPORTED_ERRORS problems, by line; the import is possible only when there is none. */
  errors: CsvRowError[];
  /** How many problems there are in all (errors holds the first MAX_REPORTED_ERRORS). */
  errorCount: number;
  ok: boolean;
  /** The first rows as they would be imported (no passwords). */
  sample: CsvRowSummary[];
  /**
   * False when the file itself is unusable (not CSV, a bad header, too many rows): then not even the
   * valid rows can be imported with `skipInvalid`.
   */
  partialPossible: boolean;
  /** With `verifyLogins`: each valid row's login on both sides (the failed ones are also in `errors`). */
  logins?: RowLoginCheck[];
}

/** A row whose owner was asked for the source password. */
export interface OwnerLinkRow {
  jobId: number;
  line: number;
  sourceEmail: string;
  /** Where the link was emailed; null when it was only returned. */
  ownerEmail: string | null;
  /** The link, with `askOwners.returnLinks` (shown this once: only its hash is kept); else null. */
  url: string | null;
}

export interface ImportResult {
  batch: BatchView;
  jobCount: number;
  /** Jobs waiting for their owner to enter the source password through a link (status awaiting_credentials). */
  awaitingCount: number;
  ownerLinks: OwnerLinkRow[];
  /** Of the imported jobs, how many copy mail and how many are dry runs. */
  realCount: number;
  dryRunCount: number;
  /**
   * With `skipInvalid`: the rows left out, with their reasons (by index and line: the caller has the
   * rows; passwords never come back). Empty otherwise.
   */
  rejected: RejectedRow[];
}

interface ValidRow extends Omit<CsvRowSummary, "setOptions"> {
  /** Position among the data rows, from 0. */
  index: number;
  /** The job's engine options: the row's option columns over the batch's over the settings'. */
  options: Record<string, unknown>;
  optionOrigins: Record<string, OptionOrigin>;
  /** Empty when the row's source server logs in with its admin credentials, or with a refresh token. */
  sourcePassword: string;
  destPassword: string;
  sourceGrant: CsvGrant | null;
  destGrant: CsvGrant | null;
  /** The owner's address from the ownerEmail column; null when empty. */
  ownerEmail: string | null;
  /** The job waits for its owner to enter the source password through a link. */
  awaitsOwner: boolean;
}

/** A CSV with the expected header and one example row, offered for download. */
export function csvTemplate(): string {
  return (
    `${CSV_COLUMNS.join(",")}\r\n` +
    `old-imap,alice@old.example,"source password",new-imap,alice@new.example,"destination password",Alice,true\r\n`
  );
}

/** Header names accepted for the login columns besides their API names (sourceEmail, destEmail). */
const COLUMN_ALIASES: Record<string, CsvColumn> = {
  sourcelogin: "sourceEmail",
  destlogin: "destEmail",
  owner_email: "ownerEmail",
};
/**
 * Commas, or semicolons for a spreadsheet export in a locale whose decimal mark is a comma: a header
 * line with semicolons and no comma is read as such.
 */
function delimiterOf(csv: string): "," | ";" {
  const header = csv.slice(0, csv.search(/\r?\n|$/));
  return !header.includes(",") && header.includes(";") ? ";" : ",";
}

/** The rejected-rows download adds an `error` column; the fixed file comes back with it. */
const IGNORED_COLUMNS = new Set(["error"]);
const TRUE_WORDS = new Set(["true", "yes", "y", "1"]);
const FALSE_WORDS = new Set(["false", "no", "n", "0"]);

interface ServerRef {
  id: number;
  name: string;
  /** The server holds admin credentials: a row may leave its password empty. */
  hasAdmin: boolean;
}

/**
 * Parses and checks every row: columns, servers (by id or name), addresses, passwords, duplicates.
 * Pure apart from reading the servers list; writes nothing.
 */
async function validateCsv(
  ctx: Pick<ServiceContext, "db">,
  csv: string,
  defaultDryRun: boolean,
  /** What every row's options start from: the batch's over the settings' defaults. */
  inheritedOptions: Pick<OptionLayers, "settings" | "batch">,
  /** How rows may ask their owner for the source password (emails on, links returned). */
  owners: { emailEnabled: boolean; returnLinks: boolean } = { emailEnabled: false, returnLinks: false },
): Promise<{ rowCount: number; errors: CsvRowError[]; rows: ValidRow[]; rejected: RejectedRow[] }> {
  const errors: CsvRowError[] = [];
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parseCsv(csv, {
      bom: true,
      delimiter: delimiterOf(csv),
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as typeof records;
  } catch (e: unknown) {
    const line = (e as { lines?: number }).lines ?? 1;
    const message = e instanceof Error ? e.message.replace(/^Invalid [^:]*:\s*/, "") : String(e);
    return {
      rowCount: 0,
      errors: [{ line, column: null, reason: `The file is not valid CSV: ${message}` }],
      rows: [],
      rejected: [],
    };
  }
  const first = records[0];
  if (!first) {
    return {
      rowCount: 0,
      errors: [
        {
          line: 1,
          column: null,
          reason: "The file is empty. Start from the template: a header line, then one line per mailbox.",
        },
      ],
      rows: [],
      rejected: [],
    };
  }
  const header = first.record.map((h) => h.trim());
  const known = new Map<string, CsvColumn>([
    ...[...CSV_COLUMNS, ...CSV_OAUTH2_COLUMNS, ...CSV_OWNER_COLUMNS].map(
      (c) => [c.toLowerCase(), c] as const,
    ),
    ...Object.entries(COLUMN_ALIASES),
  ]);
  const index = new Map<CsvColumn, number>();
  const optionIndex = new Map<CsvOptionColumn, number>();
  header.forEach((h, i) => {
    const column = known.get(h.toLowerCase());
    const option = OPTION_COLUMN_BY_NAME.get(h.toLowerCase());
    const seenBefore = (column && index.has(column)) || (option && optionIndex.has(option));
    if (seenBefore)
      errors.push({ line: 1, column: h, reason: `The column "${h}" appears twice in the header.` });
    else if (column) index.set(column, i);
    else if (option) optionIndex.set(option, i);
    else if (h !== "" && !IGNORED_COLUMNS.has(h.toLowerCase()))
      // Never ignored: a misspelt option column would otherwise silently run every job without it.
      errors.push({
        line: 1,
        column: h,
        reason: `The column "${h}" is not known. Columns are ${CSV_COLUMNS.join(", ")}, ${CSV_OWNER_COLUMNS.join(", ")}, the OAuth2 columns (${CSV_OAUTH2_COLUMNS.join(", ")}) and the engine options (${CSV_OPTION_COLUMNS.join(", ")}).`,
      });
  });
  for (const column of CSV_REQUIRED_COLUMNS) {
    if (!index.has(column))
      errors.push({
        line: 1,
        column,
        reason: `The header has no "${column}" column. Expected: ${CSV_REQUIRED_COLUMNS.join(",")}.`,
      });
  }
  const dataRecords = records.slice(1);
  const rowCount = dataRecords.length;
  if (errors.length > 0) return { rowCount, errors, rows: [], rejected: [] };
  if (rowCount === 0) {
    return {
      rowCount,
      errors: [{ line: 2, column: null, reason: "The file has a header but no rows." }],
      rows: [],
      rejected: [],
    };
  }
  if (rowCount > CSV_MAX_ROWS) {
    return {
      rowCount,
      errors: [
        {
          line: CSV_MAX_ROWS + 2,
          column: null,
          reason: `A file holds at most ${CSV_MAX_ROWS} rows; split it into several imports.`,
        },
      ],
      rows: [],
      rejected: [],
    };
  }

  const serverRows = await ctx.db.selectFrom("servers").select(["id", "name", "admin_mode"]).execute();
  const servers = serverRows.map((s) => ({ id: s.id, name: s.name, hasAdmin: s.admin_mode !== null }));
  const byId = new Map<number, ServerRef>(servers.map((s) => [s.id, s]));
  const byName = new Map<string, ServerRef>(servers.map((s) => [s.name.toLowerCase(), s]));
  function resolveServer(raw: string): ServerRef | undefined {
    const value = raw.trim();
    if (/^\d+$/.test(value)) return byId.get(Number(value)) ?? byName.get(value.toLowerCase());
    return byName.get(value.toLowerCase());
  }

  const rows: ValidRow[] = [];
  const seen = new Map<string, number>();
  const rejected: RejectedRow[] = [];
  for (const [rowIndex, { record, info }] of dataRecords.entries()) {
    // info.lines is where the record ends; quoted line breaks make a record span several lines (and
    // csv-parse counts the \r and the \n of a quoted CRLF as one line each, so we do the same).
    const newlines = record.reduce((n, field) => n + (field.match(/[\r\n]/g)?.length ?? 0), 0);
    const line = info.lines - newlines;
    const before = errors.length;
    const rejectIfFaulty = () => {
      if (errors.length > before) rejected.push({ index: rowIndex, line, errors: errors.slice(before) });
    };
    if (record.length !== header.length) {
      errors.push({
        line,
        column: null,
        reason: `This row has ${record.length} field${record.length === 1 ? "" : "s"}; the header has ${header.length}. Quote values that contain commas.`,
      });
      rejectIfFaulty();
      continue;
    }
    const get = (c: CsvColumn) => {
      const i = index.get(c);
      return i === undefined ? "" : (record[i] ?? "");
    };
    const garbled = record.findIndex((field) => field.includes("\uFFFD"));
    if (garbled >= 0) {
      // The panel reads the file as UTF-8: a Latin-1 or Windows-1252 export turns é into U+FFFD.
      errors.push({
        line,
        column: header[garbled] ?? null,
        reason:
          "This row has characters that are not UTF-8 (shown as �). Save the file as UTF-8 (in Excel: CSV UTF-8) and import it again.",
      });
      rejectIfFaulty();
      continue;
    }
    const source = resolveServer(get("sourceServerId"));
    const dest = resolveServer(get("destServerId"));
    for (const [column, server] of [
      ["sourceServerId", source],
      ["destServerId", dest],
    ] as const) {
      const raw = get(column).trim();
      if (raw === "")
        errors.push({ line, column, reason: "The server is missing: give its id or its name." });
      else if (!server)
        errors.push({ line, column, reason: `Unknown server "${raw}": no server has this id or name.` });
    }
    const sourceEmail = get("sourceEmail").trim();
    const destEmail = get("destEmail").trim();
    for (const [column, login] of [
      ["sourceEmail", sourceEmail],
      ["destEmail", destEmail],
    ] as const) {
      if (login === "") errors.push({ line, column, reason: "The login is missing." });
      else if (hasControlCharacter(login))
        errors.push({ line, column, reason: "The login contains a control character (such as NUL)." });
      else if (login.startsWith("-"))
        errors.push({ line, column, reason: `"${login}" starts with "-", which no login may.` });
      else if (loginProblem(login) !== null)
        errors.push({ line, column, reason: `"${login.slice(0, 80)}…" is longer than 320 characters.` });
    }
    const sourcePassword = get("sourcePassword");
    const destPassword = get("destPassword");
    const sourceGrant = readCsvGrant("source", get, line, errors);
    const destGrant = readCsvGrant("dest", get, line, errors);
    const ownerEmail = get("ownerEmail").trim();
    if (ownerEmail !== "") {
      const parsedOwner = ownerEmailSchema.safeParse(ownerEmail);
      if (!parsedOwner.success)
        errors.push({
          line,
          column: "ownerEmail",
          reason: parsedOwner.error.issues[0]?.message ?? "Not an email address.",
        });
      else if (sourcePassword !== "" || sourceGrant !== null)
        errors.push({
          line,
          column: "ownerEmail",
          reason:
            "Give either the source password (or refresh token) or the owner's email to ask them for it, not both.",
        });
      else if (!owners.emailEnabled)
        errors.push({
          line,
          column: "ownerEmail",
          reason: `Emails are off (SMTP is not configured), so no link can be emailed to ${ownerEmail}. Set SMTP_URL and NOTIFY_FROM, or import with askOwners.returnLinks and pass the links on yourself.`,
        });
    }
    // The owner gives the source password: asked by email, or through a link returned to the caller.
    const awaitsOwner =
      sourcePassword === "" &&
      sourceGrant === null &&
      (ownerEmail !== "" || (owners.returnLinks && source !== undefined && !source.hasAdmin));
    for (const [column, password, side, server, grant] of [
      ["sourcePassword", sourcePassword, "source", source, sourceGrant],
      ["destPassword", destPassword, "destination", dest, destGrant],
    ] as const) {
      // Never echo the value: a reason names the problem only. Empty is allowed where the server's
      // admin credentials, or the row's refresh token, log in for the mailbox.
      if (password !== "" && grant !== null) {
        errors.push({
          line,
          column,
          reason: "Give either the password or the refresh token for this side, not both.",
        });
      } else if (password === "") {
        if (server && !server.hasAdmin && grant === null && !(side === "source" && awaitsOwner))
          errors.push({ line, column, reason: passwordRequiredSentence(side) });
      } else if (password.length > 1024)
        errors.push({ line, column, reason: "The password is longer than 1024 characters." });
      else if (/[\0\r\n]/.test(password))
        errors.push({ line, column, reason: "The password contains a line break or NUL character." });
    }
    const dryRunRaw = get("dryRun").trim().toLowerCase();
    let dryRun = defaultDryRun;
    if (dryRunRaw !== "") {
      if (TRUE_WORDS.has(dryRunRaw)) dryRun = true;
      else if (FALSE_WORDS.has(dryRunRaw)) dryRun = false;
      else errors.push({ line, column: "dryRun", reason: `"${get("dryRun")}" is not true or false.` });
    }
    const cells = new Map<CsvOptionColumn, string>();
    for (const [option, i] of optionIndex) cells.set(option, record[i] ?? "");
    const options = rowOptions(cells, inheritedOptions);
    for (const problem of options.problems)
      errors.push({ line, column: problem.column, reason: problem.reason });
    const name = get("name").trim();
    if (name.length > 200)
      errors.push({ line, column: "name", reason: "The name is longer than 200 characters." });
    else if (hasControlCharacter(name))
      errors.push({ line, column: "name", reason: "The name contains a control character (such as NUL)." });
    if (errors.length > before || !source || !dest) {
      rejectIfFaulty();
      continue;
    }
    const key = `${source.id}\u0000${sourceEmail.toLowerCase()}\u0000${dest.id}\u0000${destEmail.toLowerCase()}`;
    const firstLine = seen.get(key);
    if (firstLine !== undefined) {
      errors.push({
        line,
        column: null,
        reason: `Duplicate of line ${firstLine}: the same source and destination mailboxes.`,
      });
      rejectIfFaulty();
      continue;
    }
    seen.set(key, line);
    rows.push({
      index: rowIndex,
      options: options.options,
      optionOrigins: options.origins,
      line,
      name: name || `${sourceEmail} → ${destEmail}`,
      sourceServerId: source.id,
      sourceServerName: source.name,
      sourceEmail,
      destServerId: dest.id,
      destServerName: dest.name,
      destEmail,
      dryRun,
      sourcePassword,
      destPassword,
      sourceGrant,
      destGrant,
      ownerEmail: ownerEmail === "" ? null : ownerEmail,
      awaitsOwner,
    });
  }
  return { rowCount, errors, rows, rejected };
}

function planOf(rows: readonly ValidRow[], rejected: readonly RejectedRow[]): ImportPlan {
  const realCount = rows.filter((r) => !r.dryRun).length;
  return {
    validCount: rows.length,
    realCount,
    dryRunCount: rows.length - realCount,
    rejectedCount: rejected.length,
  };
}

/** "Line 4, column sourceEmail: …" — where the first problem is, for a message of its own. */
function firstProblem(errors: readonly CsvRowError[]): string {
  const first = errors[0];
  if (!first) return "";
  return `Line ${first.line}${first.column ? `, column ${first.column}` : ""}: ${first.reason}`;
}

function parseImportRequest(input: unknown) {
  return parseInput(importCsvInputSchema, input, "import request");
}

/**
 * Every row checked as validateCsv does, and with `verifyLogins` also by logging in to both sides:
 * a row whose login fails becomes a rejected row like any other problem (its password column for a
 * refused login, its server column when the server cannot be reached), with the server test's sentence.
 */
async function checkRows(
  ctx: Pick<ServiceContext, "db" | "vault" | "denyHosts">,
  v: ReturnType<typeof parseImportRequest>,
  ownerLinks: OwnerLinkConfig | undefined,
): Promise<Awaited<ReturnType<typeof validateCsv>> & { logins?: RowLoginCheck[] }> {
  const settings = await getSettings(ctx);
  const checked = await validateCsv(
    ctx,
    v.csv,
    v.dryRun,
    { settings: settings.defaultEngineOptions, batch: v.options },
    { emailEnabled: ownerLinks?.emailEnabled ?? false, returnLinks: v.askOwners?.returnLinks ?? false },
  );
  if (!v.verifyLogins || checked.rows.length === 0) return checked;
  const logins = await verifyLogins(ctx, checked.rows);
  const failedLines = new Set<number>();
  const rejected = [...checked.rejected];
  const errors = [...checked.errors];
  for (const [i, row] of checked.rows.entries()) {
    const result = logins[i];
    if (!result) continue;
    const rowErrors: CsvRowError[] = [];
    for (const [side, check] of [
      ["source", result.source],
      ["dest", result.destination],
    ] as const) {
      // The owner has yet to give this password: there is nothing to try.
      if (check.ok || (side === "source" && row.awaitsOwner)) continue;
      const grant = side === "source" ? row.sourceGrant : row.destGrant;
      // A refused login or token is the credential's column; anything else the server's.
      const column =
        check.category === "auth" || (check.category === "oauth2" && grant)
          ? grant
            ? `${side}RefreshToken`
            : `${side}Password`
          : `${side}ServerId`;
      rowErrors.push({ line: row.line, column, reason: check.sentence });
    }
    if (rowErrors.length === 0) continue;
    failedLines.add(row.line);
    errors.push(...rowErrors);
    rejected.push({ index: row.index, line: row.line, errors: rowErrors });
  }
  errors.sort((a, b) => a.line - b.line);
  rejected.sort((a, b) => a.index - b.index);
  return {
    ...checked,
    errors,
    rejected,
    rows: checked.rows.filter((r) => !failedLines.has(r.line)),
    logins,
  };
}

/** Checks a CSV file and reports the row count and every problem, writing nothing. */
/**
 * Problems listed in a preview or a refused import. A file of bad rows reported every one (1.6 MB of
 * them made a 27 MB answer); the first ones and the count say what to fix.
 */
export const MAX_REPORTED_ERRORS = 200;

export async function previewImport(
  ctx: Pick<ServiceContext, "db" | "vault" | "denyHosts">,
  input: unknown,
  ownerLinks?: OwnerLinkConfig,
): Promise<ImportPreview> {
  const v = parseImportRequest(input);
  const { rowCount, errors, rows, rejected, logins } = await checkRows(ctx, v, ownerLinks);
  return {
    ...(logins ? { logins } : {}),
    rowCount,
    errors: errors.slice(0, MAX_REPORTED_ERRORS),
    errorCount: errors.length,
    ok: errors.length === 0,
    sample: rows
      .slice(0, 10)
      .map(
        ({
          sourcePassword: _s,
          destPassword: _d,
          index: _i,
          sourceGrant: _sg,
          destGrant: _dg,
          ownerEmail: _oe,
          awaitsOwner: _ao,
          options,
          optionOrigins,
          ...summary
        }) => ({
          ...summary,
          setOptions: Object.entries(optionOrigins).map(([key, origin]) => ({
            key,
            value: options[key],
            origin,
          })),
        }),
      ),
    ...planOf(rows, rejected),
    partialPossible: rows.length > 0 && rejectedErrorCount(rejected) === errors.length,
  };
}

function rejectedErrorCount(rejected: readonly RejectedRow[]): number {
  return rejected.reduce((n, r) => n + r.errors.length, 0);
}

/**
 * Imports every row of the file as a job of one new batch, with their queue entries, in one
 * transaction. A file with any problem imports nothing and the error lists them all, unless
 * `skipInvalid`: then the valid rows are imported and the others come back in `rejected` with their
 * reasons. A file that is unusable as a whole (not CSV, a bad header) imports nothing either way.
 */
export async function importBatch(
  ctx: ServiceContext,
  input: unknown,
  /** Needed for rows that ask their owner for the source password. */
  ownerLinks?: OwnerLinkConfig,
): Promise<ImportResult> {
  const v = parseImportRequest(input);
  const { errors, rows, rejected } = await checkRows(ctx, v, ownerLinks);
  const skippable = v.skipInvalid && rows.length > 0 && rejectedErrorCount(rejected) === errors.length;
  if (errors.length > 0 && !skippable) {
    const count = `${errors.length} problem${errors.length === 1 ? "" : "s"}`;
    throw new ImapferryError(
      "BAD_INPUT",
      `${firstProblem(errors)} The file has ${count}; nothing was imported. Fix ${errors.length === 1 ? "it" : "them"} and import again${v.skipInvalid || rows.length === 0 ? "" : ", or import only the valid rows"}.`,
      errors
        .slice(0, MAX_REPORTED_ERRORS)
        .map((e) => ({ path: ["line", e.line, ...(e.column ? [e.column] : [])], message: e.reason })),
    );
  }
  const settings = await getSettings(ctx);
  const tag = v.tag ?? defaultBatchTag(ctx.clock.now());
  const tenant = v.tenant ?? null;
  const pool = routePool(v.pool, null, tenant, settings.tenantPools);
  // Encrypt before the transaction opens: it holds locks and a connection for as short a time as possible.
  // An empty password stays null: the server's admin credentials log in for that mailbox.
  const encrypt = (password: string) => (password === "" ? null : ctx.vault.encrypt(password));
  const secrets = rows.map((r) => [encrypt(r.sourcePassword), encrypt(r.destPassword)] as const);
  // Refresh tokens are stored like the API stores them (not tried here: an import of thousands of rows
  // would be thousands of token requests; a refused one fails its job with the provider's sentence).
  const grants = rows.map(
    (r) =>
      [
        r.sourceGrant ? encryptDelegatedGrant(ctx.vault, delegatedGrant(r.sourceGrant)) : null,
        r.destGrant ? encryptDelegatedGrant(ctx.vault, delegatedGrant(r.destGrant)) : null,
      ] as const,
  );
  const { batchId, ownerRows } = await ctx.db
    .transaction()
    .execute(async (trx) => {
      await lockServersForShare(
        trx,
        rows.flatMap((r) => [r.sourceServerId, r.destServerId]),
      );
      const batch = await trx
        .insertInto("batches")
        .values({ tag, tenant, pool, dry_run: v.dryRun, defaults: v.options })
        .returning("id")
        .executeTakeFirstOrThrow();
      // One INSERT over unnested arrays: 16 parameters however many rows, and no per-value query
      // building (a 10,000-row VALUES list spends most of its time being compiled and bound).
      const column = <T>(pick: (r: ValidRow, i: number) => T) => sql.val(rows.map(pick));
      await sql`
        insert into jobs (name, batch_id, tenant, pool, source_server_id, source_email, source_secret,
                          source_oauth2, dest_server_id, dest_email, dest_secret, dest_oauth2, dry_run, options,
                          option_origins, priority, status)
        select r.name, ${batch.id}::int, ${tenant}::text, ${pool}::text, r.source_server_id, r.source_email, r.source_secret,
               r.source_oauth2, r.dest_server_id, r.dest_email, r.dest_secret, r.dest_oauth2, r.dry_run,
               r.options::jsonb, r.origins::jsonb, ${v.priority}::int, r.status
        from unnest(
          ${column((r) => r.name)}::text[],
          ${column((r) => r.sourceServerId)}::int[],
          ${column((r) => r.sourceEmail)}::text[],
          ${column((_r, i) => secrets[i]![0])}::text[],
          ${column((r) => r.destServerId)}::int[],
          ${column((r) => r.destEmail)}::text[],
          ${column((_r, i) => secrets[i]![1])}::text[],
          ${column((r) => r.dryRun)}::boolean[],
          ${column((r) => JSON.stringify(r.options))}::text[],
          ${column((r) => JSON.stringify(r.optionOrigins))}::text[],
          ${column((_r, i) => grants[i]![0])}::text[],
          ${column((_r, i) => grants[i]![1])}::text[],
          ${column((r) => (r.awaitsOwner ? "awaiting_credentials" : "queued"))}::text[]
        ) with ordinality as r(name, source_server_id, source_email, source_secret, dest_server_id, dest_email,
                               dest_secret, dry_run, options, origins, source_oauth2, dest_oauth2, status, n)
        order by r.n`.execute(trx);
      // Only the queued rows get a queue entry; those awaiting their owner get a link instead.
      await enqueueJobs(trx, { batchId: batch.id });
      const ownerRows = await issueOwnerLinks(trx, ctx, batch.id, rows, v.askOwners, ownerLinks);
      // One event per new job, as for any job (10,000 NOTIFYs cost PostgreSQL a few tens of ms);
      // a listener that falls behind resyncs from the database.
      await sql`
        select pg_notify(${CHANNELS.job}, json_build_object('jobId', id, 'batchId', batch_id, 'status', status)::text)
        from jobs where batch_id = ${batch.id} order by id`.execute(trx);
      return { batchId: batch.id, ownerRows };
    })
    .catch((e: unknown) => {
      throw mapDuplicateTag(e, tag);
    });
  const plan = planOf(rows, rejected);
  return {
    batch: await getBatch(ctx, batchId),
    jobCount: rows.length,
    awaitingCount: ownerRows.length,
    ownerLinks: ownerRows,
    realCount: plan.realCount,
    dryRunCount: plan.dryRunCount,
    rejected: skippable ? rejected : [],
  };
}

/**
 * Issues the links of an import's rows that wait for their owner, in the import's transaction: each
 * row is found back by its mailbox pair (unique within a file). The URLs go back only with returnLinks.
 */
async function issueOwnerLinks(
  trx: Parameters<typeof issueLinkIn>[0],
  ctx: Pick<ServiceContext, "vault">,
  batchId: number,
  rows: readonly ValidRow[],
  askOwners: { returnLinks: boolean; expiresInHours: number } | undefined,
  ownerLinks: OwnerLinkConfig | undefined,
): Promise<OwnerLinkRow[]> {
  const waiting = rows.filter((r) => r.awaitsOwner);
  if (waiting.length === 0) return [];
  if (!ownerLinks)
    throw new ImapferryError(
      "CONFIG",
      "Links to mailbox owners need the server's public URL; this caller has none.",
    );
  const pairKey = (a: {
    sourceServerId: number;
    sourceEmail: string;
    destServerId: number;
    destEmail: string;
  }) =>
    `${a.sourceServerId}\u0000${a.sourceEmail.toLowerCase()}\u0000${a.destServerId}\u0000${a.destEmail.toLowerCase()}`;
  const jobs = await trx
    .selectFrom("jobs")
    .select(["id", "source_server_id", "source_email", "dest_server_id", "dest_email"])
    .where("batch_id", "=", batchId)
    .where("status", "=", "awaiting_credentials")
    .execute();
  const idByPair = new Map(
    jobs.map((j) => [
      pairKey({
        sourceServerId: j.source_server_id,
        sourceEmail: j.source_email,
        destServerId: j.dest_server_id,
        destEmail: j.dest_email,
      }),
      j.id,
    ]),
  );
  const out: OwnerLinkRow[] = [];
  for (const row of waiting) {
    const jobId = idByPair.get(pairKey(row));
    if (jobId === undefined) continue;
    const link = await issueLinkIn(trx, ctx.vault, ownerLinks, {
      jobId,
      ownerEmail: row.ownerEmail,
      expiresInHours: askOwners?.expiresInHours ?? DEFAULT_LINK_HOURS,
    });
    out.push({
      jobId,
      line: row.line,
      sourceEmail: row.sourceEmail,
      ownerEmail: row.ownerEmail,
      url: askOwners?.returnLinks ? link.url : null,
    });
  }
  return out;
}
