import type { Database, JobRow, ServerRow } from "@imapferry/db";
import { type Kysely, sql, type Transaction } from "kysely";
import type { ServiceContext } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import { getSettings } from "../settings/settings.ts";
import { type BudgetWindow, budgetWindowAt } from "./budget-window.ts";

type Db = Kysely<Database> | Transaction<Database>;

/** Which way bytes flow for an account: read from a source account, written to a destination one. */
export type UsageDirection = "download" | "upload";

/** One account's budget in the current window, as the job page shows it. */
export interface AccountBudgetUsage {
  side: "source" | "destination";
  direction: UsageDirection;
  serverId: number;
  serverName: string;
  login: string;
  usedBytes: number;
  /** The server's budget for the window; null when it sets none (usage is still counted). */
  budgetBytes: number | null;
  windowStart: Date;
  /** When the window's budget resets. */
  resetsAt: Date;
}

/** The account keys: logins are compared case-insensitively, as the servers do. */
function accountKey(login: string): string {
  return login.trim().toLowerCase();
}

function budgetOf(row: ServerRow, direction: UsageDirection): number | null {
  const raw = direction === "download" ? row.daily_download_bytes : row.daily_upload_bytes;
  return raw === null ? null : Number(raw);
}

async function usedBytes(
  db: Db,
  serverId: number,
  login: string,
  direction: UsageDirection,
  window: BudgetWindow,
): Promise<number> {
  const row = await db
    .selectFrom("account_usage")
    .select("bytes")
    .where("server_id", "=", serverId)
    .where("login", "=", accountKey(login))
    .where("direction", "=", direction)
    .where("window_start", "=", window.start)
    .executeTakeFirst();
  return row ? Number(row.bytes) : 0;
}

/**
 * Adds what a run copied to both accounts' usage: its bytes were read from the source account and
 * written to the destination one. Counted in the window the run ended in, so bytes copied across a
 * window's end count against the new window (erring on the side of the provider's limit).
 */
export async function recordAccountUsage(
  db: Db,
  job: Pick<JobRow, "source_server_id" | "source_email" | "dest_server_id" | "dest_email">,
  bytes: number,
  windowSeconds: number,
  now = new Date(),
): Promise<void> {
  if (!(bytes > 0)) return;
  const window = budgetWindowAt(now, windowSeconds);
  const rows = [
    { server_id: job.source_server_id, login: accountKey(job.source_email), direction: "download" as const },
    { server_id: job.dest_server_id, login: accountKey(job.dest_email), direction: "upload" as const },
  ];
  for (const row of rows) {
    await db
      .insertInto("account_usage")
      .values({ ...row, window_start: window.start, bytes: Math.round(bytes) })
      .onConflict((oc) =>
        oc
          .columns(["server_id", "login", "direction", "window_start"])
          .doUpdateSet({ bytes: sql`account_usage.bytes + excluded.bytes` }),
      )
      .execute();
  }
}

/** What a run may still copy in this window, and which budget says so. */
export interface RemainingBudget {
  /** Bytes left under the tightest budget; null when neither account has one. */
  bytes: number | null;
  /** The budget that is tightest: which side and its sentence-ready description. */
  limitedBy: { side: "source" | "destination"; direction: UsageDirection; budgetBytes: number } | null;
  window: BudgetWindow;
}

/** What the job's source (download) and destination (upload) accounts may still transfer this window. */
export async function remainingBudget(
  db: Db,
  job: Pick<JobRow, "source_server_id" | "source_email" | "dest_server_id" | "dest_email">,
  source: ServerRow,
  destination: ServerRow,
  windowSeconds: number,
  now = new Date(),
): Promise<RemainingBudget> {
  const window = budgetWindowAt(now, windowSeconds);
  let best: RemainingBudget = { bytes: null, limitedBy: null, window };
  const sides = [
    { side: "source" as const, direction: "download" as const, server: source, login: job.source_email },
    {
      side: "destination" as const,
      direction: "upload" as const,
      server: destination,
      login: job.dest_email,
    },
  ];
  for (const { side, direction, server, login } of sides) {
    const budget = budgetOf(server, direction);
    if (budget === null) continue;
    const left = Math.max(0, budget - (await usedBytes(db, server.id, login, direction, window)));
    if (best.bytes === null || left < best.bytes) {
      best = { bytes: left, limitedBy: { side, direction, budgetBytes: budget }, window };
    }
  }
  return best;
}

/** The job's two accounts' usage in the current window, for the job page. */
export async function jobBudgetUsage(
  ctx: Pick<ServiceContext, "db">,
  jobId: number,
  now = new Date(),
): Promise<AccountBudgetUsage[]> {
  const job = await ctx.db
    .selectFrom("jobs")
    .select(["source_server_id", "source_email", "dest_server_id", "dest_email"])
    .where("id", "=", jobId)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  if (!job) throw new ImapferryError("NOT_FOUND", `There is no job ${jobId}.`);
  const settings = await getSettings(ctx);
  const window = budgetWindowAt(now, settings.budgetWindowSeconds);
  const servers = await ctx.db
    .selectFrom("servers")
    .selectAll()
    .where("id", "in", [job.source_server_id, job.dest_server_id])
    .execute();
  const serverById = new Map(servers.map((s) => [s.id, s]));
  const accounts = [
    {
      side: "source" as const,
      direction: "download" as const,
      id: job.source_server_id,
      login: job.source_email,
    },
    {
      side: "destination" as const,
      direction: "upload" as const,
      id: job.dest_server_id,
      login: job.dest_email,
    },
  ];
  const usage: AccountBudgetUsage[] = [];
  for (const account of accounts) {
    const server = serverById.get(account.id);
    if (!server) continue;
    usage.push({
      side: account.side,
      direction: account.direction,
      serverId: server.id,
      serverName: server.name,
      login: account.login,
      usedBytes: await usedBytes(ctx.db, server.id, account.login, account.direction, window),
      budgetBytes: budgetOf(server, account.direction),
      windowStart: window.start,
      resetsAt: window.end,
    });
  }
  return usage;
}
