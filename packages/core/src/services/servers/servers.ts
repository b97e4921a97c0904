import type { AdminMode, OAuth2AdminMode, ServerRow, ServerSecurity } from "@imapferry/db";
import { sql } from "kysely";
import type { z } from "zod";
import type { ServiceContext, Vault } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import { assertHostFieldAllowed } from "../../net/deny-hosts.ts";
import type { OAuth2Grant } from "../../oauth2/grants.ts";
import { parseServiceAccountKey } from "../../oauth2/service-account-key.ts";
import { parseInput } from "../validation.ts";
import { adminCredentialsOf, type ServerAdminCredentials, serverOAuth2GrantOf } from "./admin-credentials.ts";
import { assertEndpointMayMove, endpointMoves } from "./credential-binding.ts";
import type { ConnectClientInput } from "./schemas.ts";
import { type serverAdminInputSchema, serverInputSchema, updateServerInputSchema } from "./schemas.ts";

/**
 * Which admin credentials a server holds, without the password (that is never shown); for a service
 * account or an app only which mode is set.
 */
export type ServerAdminView =
  | {
      mode: AdminMode;
      login: string;
      /** Between the mailbox login and the admin login in `login-separator` mode. */
      separator: string;
    }
  | { mode: OAuth2AdminMode };

function adminView(row: ServerRow): ServerAdminView | null {
  if (!row.admin_mode || !row.admin_login) return null;
  if (row.admin_mode === "google-service-account" || row.admin_mode === "microsoft-app")
    return { mode: row.admin_mode };
  return { mode: row.admin_mode, login: row.admin_login, separator: row.admin_separator ?? "*" };
}

/** The server's OAuth client for "Connect with Google / Microsoft" (its secret is write-only). */
export interface ServerConnectView {
  provider: "google" | "microsoft";
  clientId: string;
  /** A confidential (web) client, holding a secret (write-only); false: a public client. */
  confidential: boolean;
  /** null: the provider's public endpoints. */
  authorizeUrl: string | null;
  tokenUrl: string | null;
}

function connectView(row: ServerRow): ServerConnectView | null {
  if (!row.connect_provider || !row.connect_client_id) return null;
  return {
    provider: row.connect_provider,
    clientId: row.connect_client_id,
    confidential: row.connect_client_secret !== null,
    authorizeUrl: row.connect_authorize_url,
    tokenUrl: row.connect_token_url,
  };
}

/**
 * An IMAP server definition: connection details and, optionally, admin credentials (whose password is
 * write-only). Mailbox passwords belong to each job.
 */
export interface ServerView {
  id: number;
  name: string;
  host: string;
  port: number;
  security: ServerSecurity;
  acceptSelfSigned: boolean;
  /** Migrations that may read from this server at once across all workers; null = the global default. */
  sourceHostLimit: number | null;
  /** Bytes a run may read from one source account per budget window; null = no limit. */
  dailyDownloadBytes: number | null;
  /** Bytes a run may write to one destination account per budget window; null = no limit. */
  dailyUploadBytes: number | null;
  /** Most IMAP connections a run opens to one account here; null = the engine's own. */
  maxConnections: number | null;
  /**
   * The admin credentials' mode and login, or null when the server has none (or the caller, a tenant's
   * token, may not see them: see `hasAdminCredentials`).
   */
  admin: ServerAdminView | null;
  /** Whether jobs on this server may leave out the mailbox password (its admin credentials log in). */
  hasAdminCredentials: boolean;
  /** Mailboxes on this server can be connected with the provider's sign-in (delegated OAuth2); null: no. */
  connect: ServerConnectView | null;
  createdAt: Date;
  updatedAt: Date;
}

export function toServerView(row: ServerRow): ServerView {
  return {
    id: row.id,
    name: row.name,
    host: row.host,
    port: row.port,
    security: row.security,
    acceptSelfSigned: row.accept_self_signed,
    sourceHostLimit: row.source_host_limit,
    dailyDownloadBytes: row.daily_download_bytes === null ? null : Number(row.daily_download_bytes),
    dailyUploadBytes: row.daily_upload_bytes === null ? null : Number(row.daily_upload_bytes),
    maxConnections: row.max_connections,
    admin: adminView(row),
    hasAdminCredentials: Boolean(row.admin_mode && row.admin_login),
    connect: connectView(row),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * The server as a tenant's token sees it: which admin login reaches every mailbox on it is the
 * operator's, not the tenant's; that there is one (no password needed) is what the tenant needs.
 */
export function withoutAdminLogin(view: ServerView): ServerView {
  return { ...view, admin: null };
}

export async function listServers(ctx: Pick<ServiceContext, "db">): Promise<ServerView[]> {
  const rows = await ctx.db.selectFrom("servers").selectAll().orderBy("name").execute();
  return rows.map(toServerView);
}

export async function getServer(ctx: Pick<ServiceContext, "db">, id: number): Promise<ServerView> {
  const row = await ctx.db.selectFrom("servers").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) throw new ImapferryError("NOT_FOUND", `There is no server ${id}.`);
  return toServerView(row);
}

/**
 * The columns that store admin credentials (every secret encrypted by the vault at once), or clear
 * them. Throws BAD_INPUT naming the field for a service account key that is not one.
 */
function adminColumns(vault: Vault, admin: z.output<typeof serverAdminInputSchema> | null) {
  if (!admin) {
    return {
      admin_mode: null,
      admin_login: null,
      admin_secret: null,
      admin_separator: null,
      admin_token_url: null,
    };
  }
  if (admin.mode === "google-service-account") {
    const key = parseServiceAccountKey(admin.serviceAccountKey, ["admin", "serviceAccountKey"]);
    return {
      admin_mode: admin.mode,
      admin_login: key.clientEmail,
      admin_secret: vault.encrypt(admin.serviceAccountKey),
      admin_separator: null,
      admin_token_url: admin.tokenUrl ?? null,
    };
  }
  if (admin.mode === "microsoft-app") {
    const { tenantId, clientId, clientSecret } = admin;
    return {
      admin_mode: admin.mode,
      admin_login: clientId,
      admin_secret: vault.encrypt(JSON.stringify({ tenantId, clientId, clientSecret })),
      admin_separator: null,
      admin_token_url: admin.tokenUrl ?? null,
    };
  }
  return {
    admin_mode: admin.mode,
    admin_login: admin.login,
    admin_secret: vault.encrypt(admin.password),
    admin_separator: admin.separator,
    admin_token_url: null,
  };
}

/**
 * The connect client's columns, or none. On an update, a client given without a secret keeps the
 * stored secret when the client id stays the same (the secret is write-only: the form cannot show it).
 */
function connectColumns(
  vault: Vault,
  connect: ConnectClientInput | null,
  current?: Pick<ServerRow, "connect_client_id" | "connect_client_secret">,
) {
  if (!connect) {
    return {
      connect_provider: null,
      connect_client_id: null,
      connect_client_secret: null,
      connect_authorize_url: null,
      connect_token_url: null,
    };
  }
  const keptSecret =
    current && current.connect_client_id === connect.clientId ? current.connect_client_secret : null;
  return {
    connect_provider: connect.provider,
    connect_client_id: connect.clientId,
    connect_client_secret: connect.clientSecret ? vault.encrypt(connect.clientSecret) : keptSecret,
    connect_authorize_url: connect.authorizeUrl ?? null,
    connect_token_url: connect.tokenUrl ?? null,
  };
}

export async function createServer(
  ctx: Pick<ServiceContext, "db" | "denyHosts" | "vault">,
  input: unknown,
): Promise<ServerView> {
  const v = parseInput(serverInputSchema, input, "server definition");
  assertHostFieldAllowed(ctx.denyHosts, v.host);
  const admin = adminColumns(ctx.vault, v.admin);
  try {
    const row = await ctx.db
      .insertInto("servers")
      .values({
        name: v.name,
        host: v.host,
        port: v.port,
        security: v.security,
        accept_self_signed: v.acceptSelfSigned,
        source_host_limit: v.sourceHostLimit,
        daily_download_bytes: v.dailyDownloadBytes,
        daily_upload_bytes: v.dailyUploadBytes,
        max_connections: v.maxConnections,
        ...admin,
        ...connectColumns(ctx.vault, v.connect),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toServerView(row);
  } catch (e: unknown) {
    throw mapUniqueName(e, v.name);
  }
}

/**
 * Changes only the fields sent. The endpoint (host, port, security, trusting self-signed certificates)
 * cannot move while jobs hold passwords for the server (CONFLICT): see credential-binding.ts.
 */
export async function updateServer(
  ctx: Pick<ServiceContext, "db" | "denyHosts" | "vault">,
  input: unknown,
): Promise<ServerView> {
  const { id, ...v } = parseInput(updateServerInputSchema, input, "server definition");
  const raw = input as Record<string, unknown>;
  // partial() would fill defaults for absent keys; only what the caller sent is changed.
  const has = (key: string) => Object.hasOwn(raw, key);
  if (has("host")) assertHostFieldAllowed(ctx.denyHosts, v.host);
  const admin = has("admin") ? adminColumns(ctx.vault, v.admin ?? null) : undefined;
  try {
    const row = await ctx.db.transaction().execute(async function updateServerRow(trx) {
      const current = await trx
        .selectFrom("servers")
        .selectAll()
        .where("id", "=", id)
        .forUpdate()
        .executeTakeFirst();
      if (!current) throw new ImapferryError("NOT_FOUND", `There is no server ${id}.`);
      const next = {
        ...(has("host") && v.host !== undefined ? { host: v.host } : {}),
        ...(has("port") && v.port !== undefined ? { port: v.port } : {}),
        ...(has("security") && v.security !== undefined ? { security: v.security } : {}),
        ...(has("acceptSelfSigned") && v.acceptSelfSigned !== undefined
          ? { accept_self_signed: v.acceptSelfSigned }
          : {}),
      };
      if (endpointMoves(current, next)) {
        await assertEndpointMayMove(trx, current);
        // The admin password, like a mailbox password, only goes where it was entered for.
        if (current.admin_mode !== null && !(admin && admin.admin_mode !== null)) {
          throw new ImapferryError(
            "BAD_INPUT",
            `The server "${current.name}" holds admin credentials entered for ${current.host}:${current.port} (${current.security}). Enter the admin password again (or remove the admin credentials) to change its host, port, security or certificate trust.`,
            [{ path: ["admin", "password"], message: "Enter the admin password again for the new address." }],
          );
        }
      }
      return trx
        .updateTable("servers")
        .set({
          ...(has("name") && v.name !== undefined ? { name: v.name } : {}),
          ...next,
          ...(has("sourceHostLimit") ? { source_host_limit: v.sourceHostLimit ?? null } : {}),
          ...(has("dailyDownloadBytes") ? { daily_download_bytes: v.dailyDownloadBytes ?? null } : {}),
          ...(has("dailyUploadBytes") ? { daily_upload_bytes: v.dailyUploadBytes ?? null } : {}),
          ...(has("maxConnections") ? { max_connections: v.maxConnections ?? null } : {}),
          ...(admin ?? {}),
          ...(has("connect") ? connectColumns(ctx.vault, v.connect ?? null, current) : {}),
          updated_at: sql<Date>`now()`,
        })
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirstOrThrow();
    });
    return toServerView(row);
  } catch (e: unknown) {
    throw mapUniqueName(e, v.name ?? "");
  }
}

/** Deletes a server no job refers to. Jobs keep their history, so a server in use cannot go. */
export async function deleteServer(ctx: Pick<ServiceContext, "db">, id: number): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const server = await trx
      .selectFrom("servers")
      .select(["id", "name"])
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!server) throw new ImapferryError("NOT_FOUND", `There is no server ${id}.`);
    const used = await trx
      .selectFrom("jobs")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where((eb) => eb.or([eb("source_server_id", "=", id), eb("dest_server_id", "=", id)]))
      .executeTakeFirstOrThrow();
    const n = Number(used.n);
    if (n > 0) {
      throw new ImapferryError(
        "CONFLICT",
        `The server "${server.name}" is used by ${n} job${n === 1 ? "" : "s"} (including deleted ones kept for history). Hard-delete those jobs first, or keep the server.`,
      );
    }
    await trx.deleteFrom("servers").where("id", "=", id).execute();
  });
}

function mapUniqueName(e: unknown, name: string): unknown {
  if ((e as { code?: string }).code === "23505") {
    return new ImapferryError("CONFLICT", `A server named "${name}" already exists. Choose another name.`, [
      { path: ["name"], message: "already taken" },
    ]);
  }
  return e;
}

/**
 * The connection details the connection test needs and, when the server has admin credentials, those
 * (decrypted) too: a test for a mailbox login without a password logs in as the admin would.
 */
export async function getServerForTest(
  ctx: Pick<ServiceContext, "db" | "vault">,
  id: number,
): Promise<
  ServerView & { adminCredentials: ServerAdminCredentials | null; oauth2Grant: OAuth2Grant | null }
> {
  const row = await ctx.db.selectFrom("servers").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) throw new ImapferryError("NOT_FOUND", `There is no server ${id}.`);
  return {
    ...toServerView(row),
    adminCredentials: adminCredentialsOf(ctx.vault, row),
    oauth2Grant: serverOAuth2GrantOf(ctx.vault, row),
  };
}
