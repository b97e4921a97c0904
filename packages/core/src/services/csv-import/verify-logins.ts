import type { ServiceContext } from "../../context.ts";
import type {
  ConnectionFailureCategory,
  ConnectionTestResult,
  ImapCredentials,
} from "../../engines/connection-test.ts";
import { testConnection } from "../../engines/connection-test.ts";
import { testConnectionWithOAuth2 } from "../../engines/oauth2-connection-test.ts";
import { errorMessage } from "../../errors.ts";
import type { OAuth2Grant } from "../../oauth2/grants.ts";
import { type DelegatedOAuth2Input, delegatedGrant } from "../jobs/delegated-oauth2.ts";
import { endpointCredentials } from "../servers/admin-credentials.ts";
import { getSettings } from "../settings/settings.ts";

/** One side's login as the server test reports it: ok, or the category and the sentence. */
export type LoginCheck = { ok: true } | { ok: false; category: ConnectionFailureCategory; sentence: string };

/** The logins of one CSV row, tried before anything is written. */
export interface RowLoginCheck {
  line: number;
  source: LoginCheck;
  destination: LoginCheck;
}

/** What a row needs to be tried: its servers, logins and passwords (or refresh tokens) as the file gives them. */
export interface LoginRow {
  line: number;
  sourceServerId: number;
  sourceEmail: string;
  sourcePassword: string;
  sourceGrant?: DelegatedOAuth2Input | null;
  destServerId: number;
  destEmail: string;
  destPassword: string;
  destGrant?: DelegatedOAuth2Input | null;
}

/** Logins tried at once in all; each server host also keeps to its own limit. */
const TOTAL_CONCURRENCY = 16;
/** A login that has not answered in this time is reported as a timeout, not waited for. */
const LOGIN_TIMEOUT_MS = 8000;

/** Runs `work` for every item, at most `limit` at once overall and `hostLimit(host)` per host. */
async function forEachLimited<T>(
  items: readonly T[],
  hostOf: (item: T) => string,
  hostLimit: (host: string) => number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  const running = new Map<string, number>();
  let active = 0;
  await new Promise<void>((resolve) => {
    function next(): void {
      if (queue.length === 0 && active === 0) {
        resolve();
        return;
      }
      for (let i = 0; i < queue.length && active < TOTAL_CONCURRENCY; ) {
        const item = queue[i] as T;
        const host = hostOf(item);
        if ((running.get(host) ?? 0) >= hostLimit(host)) {
          i++;
          continue;
        }
        queue.splice(i, 1);
        active++;
        running.set(host, (running.get(host) ?? 0) + 1);
        void work(item).finally(() => {
          active--;
          running.set(host, (running.get(host) ?? 1) - 1);
          next();
        });
      }
    }
    next();
  });
}

/**
 * Tries the IMAP login of every distinct account of the rows (an account that appears on several
 * rows with the same password is tried once), with the same checks and sentences as the server test:
 * at most 16 at once, each server host at most as many as its source-host limit allows, 8 s each. A
 * side without a password logs in with its server's admin credentials, as the job would. Writes
 * nothing; passwords never appear in the result.
 */
export async function verifyLogins(
  ctx: Pick<ServiceContext, "db" | "vault" | "denyHosts">,
  rows: readonly LoginRow[],
): Promise<RowLoginCheck[]> {
  const settings = await getSettings(ctx);
  const serverIds = [...new Set(rows.flatMap((r) => [r.sourceServerId, r.destServerId]))];
  const servers =
    serverIds.length === 0
      ? []
      : await ctx.db.selectFrom("servers").selectAll().where("id", "in", serverIds).execute();
  const byId = new Map(servers.map((s) => [s.id, s]));

  interface Attempt {
    serverId: number;
    side: "source" | "destination";
    login: string;
    password: string;
    /** The row's refresh token for this side, instead of a password. */
    grant: DelegatedOAuth2Input | null;
    result?: LoginCheck;
  }
  const attempts = new Map<string, Attempt>();
  const keyOf = (serverId: number, login: string, password: string, grant: DelegatedOAuth2Input | null) =>
    `${serverId}\u0000${login.toLowerCase()}\u0000${password}\u0000${grant?.refreshToken ?? ""}`;
  for (const row of rows) {
    for (const [side, serverId, login, password, grant] of [
      ["source", row.sourceServerId, row.sourceEmail, row.sourcePassword, row.sourceGrant ?? null],
      ["destination", row.destServerId, row.destEmail, row.destPassword, row.destGrant ?? null],
    ] as const) {
      const key = keyOf(serverId, login, password, grant);
      if (!attempts.has(key)) attempts.set(key, { serverId, side, login, password, grant });
    }
  }

  const hostOf = (a: Attempt) => byId.get(a.serverId)?.host.toLowerCase() ?? "";
  const limitByHost = new Map<string, number>();
  for (const s of servers) {
    const host = s.host.toLowerCase();
    const limit = s.source_host_limit ?? settings.defaultSourceHostLimit;
    limitByHost.set(host, Math.min(limitByHost.get(host) ?? limit, limit));
  }

  await forEachLimited(
    [...attempts.values()],
    hostOf,
    (host) => limitByHost.get(host) ?? settings.defaultSourceHostLimit,
    async function tryLogin(attempt) {
      const server = byId.get(attempt.serverId);
      if (!server) {
        attempt.result = { ok: false, category: "protocol", sentence: "The server no longer exists." };
        return;
      }
      let credentials: ImapCredentials = { user: attempt.login, password: attempt.password };
      let grant: OAuth2Grant | null = attempt.grant ? delegatedGrant(attempt.grant) : null;
      if (attempt.password === "" && !grant) {
        // No password on the row: the server's admin (or its service account or app) logs in for the
        // mailbox, as the job would.
        try {
          const admin = endpointCredentials(ctx.vault, attempt.side, server, attempt.login, null);
          credentials = { user: admin.user, password: admin.password, admin: admin.admin };
          grant = admin.oauth2 ?? null;
        } catch (e: unknown) {
          attempt.result = { ok: false, category: "auth", sentence: errorMessage(e) };
          return;
        }
      }
      const endpoint = {
        host: server.host,
        port: server.port,
        security: server.security,
        acceptSelfSigned: server.accept_self_signed,
      };
      const options = { timeoutMs: LOGIN_TIMEOUT_MS, ...(ctx.denyHosts ? { denyHosts: ctx.denyHosts } : {}) };
      const outcome = grant
        ? await testConnectionWithOAuth2(endpoint, attempt.login, grant, options).catch(
            (e: unknown): ConnectionTestResult => ({
              ok: false,
              category: "protocol",
              sentence: errorMessage(e),
            }),
          )
        : await testConnection(endpoint, credentials, options);
      attempt.result = outcome.ok
        ? { ok: true }
        : { ok: false, category: outcome.category, sentence: outcome.sentence };
    },
  );

  const resultOf = (
    serverId: number,
    login: string,
    password: string,
    grant: DelegatedOAuth2Input | null | undefined,
  ): LoginCheck =>
    attempts.get(keyOf(serverId, login, password, grant ?? null))?.result ?? {
      ok: false,
      category: "protocol",
      sentence: "The login was not tried.",
    };
  return rows.map((row) => ({
    line: row.line,
    source: resultOf(row.sourceServerId, row.sourceEmail, row.sourcePassword, row.sourceGrant),
    destination: resultOf(row.destServerId, row.destEmail, row.destPassword, row.destGrant),
  }));
}
