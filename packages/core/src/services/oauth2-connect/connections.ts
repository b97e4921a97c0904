import { createHash } from "node:crypto";
import type { Database } from "@imapferry/db";
import type { Kysely, Transaction } from "kysely";
import type { ServiceContext } from "../../context.ts";
import { errorMessage, ImapferryError } from "../../errors.ts";
import { defaultTokenUrl, type OAuth2Grant, type OAuth2Provider } from "../../oauth2/grants.ts";
import { hashSecret, randomSecret } from "../auth/secrets.ts";
import { encryptDelegatedGrant } from "../jobs/delegated-oauth2.ts";
import { parseInput } from "../validation.ts";
import { connectScope, defaultAuthorizeUrl, providerAuthorizeParams } from "./endpoints.ts";
import { connectionIdInputSchema, startConnectionInputSchema } from "./schemas.ts";

/** From "Connect" to the job that takes the grant: the sign-in, then filling in the rest of the form. */
const CONNECTION_LIFETIME_MS = 60 * 60 * 1000;
const TOKEN_REQUEST_TIMEOUT_MS = 30_000;
const PROVIDER_NAMES: Record<OAuth2Provider, string> = { google: "Google", microsoft: "Microsoft" };

type DelegatedGrant = Extract<OAuth2Grant, { kind: "refresh-token" }>;

/** Who started a connection: only the same tenant (or an unbound caller) may see and use it. */
export interface ConnectionOwner {
  userId: number | null;
  tokenId: number | null;
  tenant: string | null;
}

export interface StartedConnection {
  id: number;
  /** Where to send the mailbox owner's browser. */
  authorizeUrl: string;
  expiresAt: Date;
}

export type ConnectionStatus = "pending" | "connected" | "failed" | "used" | "expired";

export interface ConnectionView {
  id: number;
  serverId: number;
  status: ConnectionStatus;
  /** The account the owner signed in as, once connected (when the provider named it). */
  account: string | null;
  /** Why it failed, for `failed`. */
  error: string | null;
  expiresAt: Date;
}

function pkceChallenge(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

/**
 * Starts "Connect with Google / Microsoft" for a server's OAuth client: a fresh state and PKCE
 * verifier (RFC 7636, S256), kept server-side, and the authorization URL to open.
 */
export async function startConnection(
  ctx: Pick<ServiceContext, "db" | "vault" | "clock">,
  owner: ConnectionOwner,
  input: unknown,
  redirectUri: string,
): Promise<StartedConnection> {
  const v = parseInput(startConnectionInputSchema, input, "connection");
  const server = await ctx.db
    .selectFrom("servers")
    .select(["name", "connect_provider", "connect_client_id", "connect_authorize_url"])
    .where("id", "=", v.serverId)
    .executeTakeFirst();
  if (!server) {
    throw new ImapferryError("NOT_FOUND", `There is no server ${v.serverId}.`, [
      { path: ["serverId"], message: "not found" },
    ]);
  }
  if (!server.connect_provider || !server.connect_client_id) {
    const message = `The server "${server.name}" has no OAuth client to connect mailboxes with; an admin sets one in the server's settings (Connect with Google / Microsoft).`;
    throw new ImapferryError("BAD_INPUT", message, [{ path: ["serverId"], message }]);
  }
  const state = randomSecret();
  const verifier = randomSecret();
  const expiresAt = new Date(ctx.clock.now().getTime() + CONNECTION_LIFETIME_MS);
  const row = await ctx.db
    .insertInto("oauth2_connections")
    .values({
      state_hash: hashSecret(state),
      code_verifier: ctx.vault.encrypt(verifier),
      server_id: v.serverId,
      user_id: owner.userId,
      token_id: owner.tokenId,
      tenant: owner.tenant,
      login_hint: v.loginHint ?? null,
      expires_at: expiresAt,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  const url = new URL(server.connect_authorize_url ?? defaultAuthorizeUrl(server.connect_provider));
  const params = {
    response_type: "code",
    client_id: server.connect_client_id,
    redirect_uri: redirectUri,
    scope: connectScope(server.connect_provider),
    state,
    code_challenge: pkceChallenge(verifier),
    code_challenge_method: "S256",
    ...providerAuthorizeParams(server.connect_provider),
    ...(v.loginHint ? { login_hint: v.loginHint } : {}),
  };
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return { id: row.id, authorizeUrl: url.toString(), expiresAt };
}

/** What the provider sent back to /oauth2/callback. */
export interface CallbackParams {
  state: string | null;
  code: string | null;
  error: string | null;
}

export type CallbackOutcome =
  | { ok: true; connectionId: number; account: string | null; provider: OAuth2Provider }
  | { ok: false; sentence: string };

/** The account an id token names (`email`, or Microsoft's `preferred_username`); its signature is not
 * needed: it came straight from the token endpoint over the connection imapferry opened (OIDC §3.1.3.7). */
function accountOf(idToken: unknown): string | null {
  if (typeof idToken !== "string") return null;
  try {
    const claims = JSON.parse(
      Buffer.from(idToken.split(".")[1] ?? "", "base64url").toString("utf8"),
    ) as Record<string, unknown>;
    const account = claims.email ?? claims.preferred_username;
    return typeof account === "string" && account.length <= 320 ? account : null;
  } catch {
    return null;
  }
}

/** A provider's OAuth2 error code, only when it looks like one (it ends up in a sentence). */
function oauthCode(value: unknown): string | null {
  return typeof value === "string" && /^[\w.-]{1,64}$/.test(value) ? value : null;
}

/**
 * Completes a sign-in: checks the state (known, once, in time), exchanges the code with the PKCE
 * verifier for a refresh token and keeps it (encrypted) for the job that takes the connection.
 * Returns a sentence for the page the browser shows; never a code, token or secret.
 */
export async function completeConnection(
  ctx: Pick<ServiceContext, "db" | "vault" | "clock">,
  params: CallbackParams,
  redirectUri: string,
): Promise<CallbackOutcome> {
  if (!params.state)
    return { ok: false, sentence: "The sign-in answer has no state. Start again with Connect in imapferry." };
  const row = await ctx.db
    .selectFrom("oauth2_connections")
    .innerJoin("servers", "servers.id", "oauth2_connections.server_id")
    .select([
      "oauth2_connections.id",
      "oauth2_connections.code_verifier",
      "oauth2_connections.expires_at",
      "oauth2_connections.connected_at",
      "oauth2_connections.error",
      "servers.connect_provider",
      "servers.connect_client_id",
      "servers.connect_client_secret",
      "servers.connect_token_url",
    ])
    .where("oauth2_connections.state_hash", "=", hashSecret(params.state))
    .executeTakeFirst();
  if (!row || !row.connect_provider || !row.connect_client_id) {
    return {
      ok: false,
      sentence: "This sign-in is not one imapferry started. Start again with Connect in imapferry.",
    };
  }
  if (row.connected_at || row.error) {
    return {
      ok: false,
      sentence: "This sign-in was already completed. Start again with Connect in imapferry.",
    };
  }
  const provider = row.connect_provider;
  const fail = async (sentence: string): Promise<CallbackOutcome> => {
    await ctx.db
      .updateTable("oauth2_connections")
      .set({ error: sentence })
      .where("id", "=", row.id)
      .where("connected_at", "is", null)
      .where("error", "is", null)
      .execute();
    return { ok: false, sentence };
  };
  if (row.expires_at.getTime() <= ctx.clock.now().getTime()) {
    return fail("The sign-in took too long and expired. Start again with Connect in imapferry.");
  }
  if (params.error || !params.code) {
    const code = oauthCode(params.error) ?? "no code";
    return fail(
      code === "access_denied"
        ? `Access was not granted at ${PROVIDER_NAMES[provider]} (access_denied). Start again with Connect and allow access to mail.`
        : `${PROVIDER_NAMES[provider]} did not grant access: ${code}. Start again with Connect in imapferry.`,
    );
  }
  const clientSecret = row.connect_client_secret ? ctx.vault.decrypt(row.connect_client_secret) : undefined;
  const tokenUrl = row.connect_token_url ?? defaultTokenUrl(provider);
  let answer: Record<string, unknown> | null;
  let status: number;
  try {
    const response = await fetch(tokenUrl, {
      method: "POST",
      headers: { accept: "application/json" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: params.code,
        redirect_uri: redirectUri,
        client_id: row.connect_client_id,
        code_verifier: ctx.vault.decrypt(row.code_verifier),
        ...(clientSecret ? { client_secret: clientSecret } : {}),
      }),
      signal: AbortSignal.timeout(TOKEN_REQUEST_TIMEOUT_MS),
      redirect: "error",
    });
    status = response.status;
    answer = (await response.json().catch(() => null)) as Record<string, unknown> | null;
  } catch (e: unknown) {
    return fail(
      `${PROVIDER_NAMES[provider]}'s token endpoint could not be reached (${errorMessage(e).slice(0, 80)}). Start again with Connect.`,
    );
  }
  if (status < 200 || status >= 300) {
    const code = oauthCode(answer?.error) ?? `http-${status}`;
    return fail(
      `${PROVIDER_NAMES[provider]} refused the sign-in: ${code}. Check the server's OAuth client (id, secret, redirect URI) and start again with Connect.`,
    );
  }
  const refreshToken = answer?.refresh_token;
  if (typeof refreshToken !== "string" || refreshToken.length === 0) {
    return fail(
      `${PROVIDER_NAMES[provider]} gave no refresh token, so imapferry could not keep access for the migration. Remove imapferry's access in the account's security settings and connect again.`,
    );
  }
  const grant: DelegatedGrant = {
    kind: "refresh-token",
    provider,
    refreshToken,
    clientId: row.connect_client_id,
    ...(clientSecret ? { clientSecret } : {}),
    tokenUrl,
  };
  const account = accountOf(answer?.id_token);
  const updated = await ctx.db
    .updateTable("oauth2_connections")
    .set({ connected_at: ctx.clock.now(), account, grant_secret: encryptDelegatedGrant(ctx.vault, grant) })
    .where("id", "=", row.id)
    .where("connected_at", "is", null)
    .where("error", "is", null)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) {
    return {
      ok: false,
      sentence: "This sign-in was already completed. Start again with Connect in imapferry.",
    };
  }
  return { ok: true, connectionId: row.id, account, provider };
}

function statusOf(
  row: { connected_at: Date | null; error: string | null; used_at: Date | null; expires_at: Date },
  now: Date,
): ConnectionStatus {
  if (row.used_at) return "used";
  if (row.error) return "failed";
  if (row.expires_at.getTime() <= now.getTime()) return "expired";
  return row.connected_at ? "connected" : "pending";
}

function notFound(id: number): ImapferryError {
  return new ImapferryError("NOT_FOUND", `There is no connection ${id}. Start again with Connect.`);
}

/** A connection's state for the panel waiting on it; another tenant's is NOT_FOUND. */
export async function getConnection(
  ctx: Pick<ServiceContext, "db" | "clock">,
  tenant: string | null,
  input: unknown,
): Promise<ConnectionView> {
  const { id } = parseInput(connectionIdInputSchema, input, "connection");
  const row = await ctx.db
    .selectFrom("oauth2_connections")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  if (!row || (tenant !== null && row.tenant !== tenant)) throw notFound(id);
  return {
    id: row.id,
    serverId: row.server_id,
    status: statusOf(row, ctx.clock.now()),
    account: row.account,
    error: row.error,
    expiresAt: row.expires_at,
  };
}

/**
 * The grant of a connected connection, for a job side, used up in the job's transaction (a connection
 * opens one job side). Checks that it was made for this server, that the account signed in to is the
 * side's login, and that the caller's tenant owns it; each refusal names `field`.
 */
export async function takeConnection(
  trx: Transaction<Database> | Kysely<Database>,
  ctx: Pick<ServiceContext, "vault" | "clock">,
  use: { id: number; serverId: number; login: string; tenant: string | null; field: string },
): Promise<string> {
  const refuse = (code: "BAD_INPUT" | "CONFLICT", message: string) =>
    new ImapferryError(code, message, [{ path: [use.field], message }]);
  const row = await trx
    .selectFrom("oauth2_connections")
    .selectAll()
    .where("id", "=", use.id)
    .forUpdate()
    .executeTakeFirst();
  if (!row || (use.tenant !== null && row.tenant !== use.tenant)) {
    throw refuse("BAD_INPUT", `There is no connection ${use.id}. Connect the mailbox again.`);
  }
  const status = statusOf(row, ctx.clock.now());
  if (status === "used")
    throw refuse(
      "CONFLICT",
      `Connection ${use.id} is already used by another job. Connect the mailbox again.`,
    );
  if (status !== "connected" || !row.grant_secret) {
    throw refuse(
      "BAD_INPUT",
      `Connection ${use.id} is ${status}${row.error ? ` (${row.error})` : ""}; connect the mailbox again.`,
    );
  }
  if (row.server_id !== use.serverId) {
    throw refuse(
      "BAD_INPUT",
      `Connection ${use.id} was made for another server; connect the mailbox with this side's server.`,
    );
  }
  if (row.account && row.account.toLowerCase() !== use.login.toLowerCase()) {
    throw refuse(
      "BAD_INPUT",
      `The account connected is ${row.account}, but the login is ${use.login}: use the same mailbox, or connect the right account.`,
    );
  }
  await trx
    .updateTable("oauth2_connections")
    .set({ used_at: ctx.clock.now() })
    .where("id", "=", row.id)
    .execute();
  return row.grant_secret;
}
