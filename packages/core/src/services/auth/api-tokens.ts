import type { ApiTokenRole } from "@imapferry/db";
import type { ServiceContext } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import { parseInput } from "../validation.ts";
import { notifyCredentialsEnded } from "./credentials-ended.ts";
import { assertAllowed, assertNotWider } from "./permissions.ts";
import { type CreateApiTokenInput, createApiTokenInputSchema } from "./schemas.ts";
import { hashSecret, randomSecret } from "./secrets.ts";
import { type Principal, personPrincipal } from "./sessions.ts";

/** Every token starts with this, so a leaked one is easy to recognise in a secret scanner. */
export const API_TOKEN_PREFIX = "imf_";
/** How many leading characters of a token are kept in clear to tell tokens apart in a list. */
const SHOWN_PREFIX_LENGTH = API_TOKEN_PREFIX.length + 6;
/** last_used_at is written at most this often per token: not one UPDATE per API request. */
const LAST_USED_RESOLUTION_MS = 60_000;
/**
 * When this process last wrote last_used_at, per token id. Without it, a burst of concurrent requests
 * (500 log followers connecting) would all see a stale value and all UPDATE the same row, queueing on
 * its lock.
 */
const lastUsedWrites = new Map<number, number>();

const TOKEN_COLUMNS = [
  "id",
  "name",
  "prefix",
  "created_at",
  "last_used_at",
  "revoked_at",
  "expires_at",
  "role",
  "tenant",
] as const;

/**
 * Who creates, lists or revokes tokens: the caller of an API request, or a user id, which stands for
 * that user as a person (the CLI and tests, which are trusted like a logged-in session).
 */
export type TokenCaller = Principal | number;

function callerOf(who: TokenCaller): Principal {
  return typeof who === "number" ? personPrincipal(who, "") : who;
}

export interface ApiToken {
  id: number;
  name: string;
  /** The first characters of the token, e.g. "imf_a1B2c3". */
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  /** When the token stops working by itself; null: until revoked. */
  expiresAt: Date | null;
  /** What it may do: `read`, `operate` (jobs and batches) or `admin`. */
  role: ApiTokenRole;
  /** The one tenant it sees; null: every tenant. */
  tenant: string | null;
}

/**
 * Creates a token for the caller's user. The returned `token` is shown once and never stored in clear.
 * A person may create any token; an admin token only one no wider than itself (its tenant, a role up to
 * its own, an expiry no later than its own: without `expiresInDays` the new token expires with it).
 */
export async function createApiToken(
  ctx: ServiceContext,
  who: TokenCaller,
  input: CreateApiTokenInput,
): Promise<{ token: string; apiToken: ApiToken }> {
  const creator = callerOf(who);
  assertAllowed(creator, "create-tokens");
  const { name, expiresInDays, role, tenant } = parseInput(createApiTokenInputSchema, input, "token");
  const asked =
    expiresInDays === undefined ? null : new Date(ctx.clock.now().getTime() + expiresInDays * 86_400_000);
  const wanted = { role, tenant: tenant ?? creator.tenant, expiresAt: asked ?? creator.expiresAt };
  assertNotWider(creator, wanted);
  const token = `${API_TOKEN_PREFIX}${randomSecret()}`;
  const row = await ctx.db
    .insertInto("api_tokens")
    .values({
      user_id: creator.userId,
      name,
      token_hash: hashSecret(token),
      prefix: token.slice(0, SHOWN_PREFIX_LENGTH),
      expires_at: wanted.expiresAt,
      role: wanted.role,
      tenant: wanted.tenant,
    })
    .returning(TOKEN_COLUMNS)
    .executeTakeFirstOrThrow();
  ctx.log.info("created an API token", {
    userId: creator.userId,
    tokenId: row.id,
    prefix: row.prefix,
    role: row.role,
    tenant: row.tenant,
    byTokenId: creator.tokenId,
  });
  return { token, apiToken: toApiToken(row) };
}

/** The caller's user's tokens; a tenant's token sees only that tenant's tokens. */
export async function listApiTokens(ctx: ServiceContext, who: TokenCaller): Promise<ApiToken[]> {
  const caller = callerOf(who);
  let query = ctx.db.selectFrom("api_tokens").select(TOKEN_COLUMNS).where("user_id", "=", caller.userId);
  if (caller.tenant !== null) query = query.where("tenant", "=", caller.tenant);
  const rows = await query.orderBy("id").execute();
  return rows.map(toApiToken);
}

/**
 * Revokes one of the caller's user's tokens (a person, or an admin token within its tenant); it stops
 * working at once and its open streams end. Revoking twice is not an error.
 */
export async function revokeApiToken(
  ctx: ServiceContext,
  who: TokenCaller,
  tokenId: number,
): Promise<ApiToken> {
  const caller = callerOf(who);
  assertAllowed(caller, "manage-tokens");
  let query = ctx.db
    .updateTable("api_tokens")
    .set((eb) => ({ revoked_at: eb.fn.coalesce("revoked_at", eb.val(ctx.clock.now())) }))
    .where("id", "=", tokenId)
    .where("user_id", "=", caller.userId);
  if (caller.tenant !== null) query = query.where("tenant", "=", caller.tenant);
  const row = await query.returning(TOKEN_COLUMNS).executeTakeFirst();
  if (!row) throw new ImapferryError("NOT_FOUND", `You have no API token with id ${tokenId}.`);
  await notifyCredentialsEnded(ctx.db, caller.userId);
  ctx.log.info("revoked an API token", { userId: caller.userId, tokenId, byTokenId: caller.tokenId });
  return toApiToken(row);
}

export async function resolveApiToken(ctx: ServiceContext, token: string): Promise<Principal | null> {
  if (!token.startsWith(API_TOKEN_PREFIX) || token.length > 200) return null;
  // Every API request runs this: a named (prepared once per connection) plain query skips the query
  // builder's per-call work.
  const result = await ctx.pool.query<{
    tokenId: number;
    prefix: string;
    last_used_at: Date | null;
    userId: number;
    username: string;
    role: ApiTokenRole;
    tenant: string | null;
    expires_at: Date | null;
  }>({
    name: "imapferry_resolve_api_token",
    text: `select t.id as "tokenId", t.prefix, t.last_used_at, t.role, t.tenant, t.expires_at,
                  u.id as "userId", u.username
           from api_tokens t join users u on u.id = t.user_id
           where t.token_hash = $1 and t.revoked_at is null
             and (t.expires_at is null or t.expires_at > $2)`,
    values: [hashSecret(token), ctx.clock.now()],
  });
  const row = result.rows[0];
  if (!row) return null;
  const now = ctx.clock.now();
  const stale = !row.last_used_at || now.getTime() - row.last_used_at.getTime() > LAST_USED_RESOLUTION_MS;
  const writtenHere = lastUsedWrites.get(row.tokenId) ?? 0;
  if (stale && now.getTime() - writtenHere > LAST_USED_RESOLUTION_MS) {
    lastUsedWrites.set(row.tokenId, now.getTime());
    if (lastUsedWrites.size > 10_000) lastUsedWrites.clear();
    await ctx.db.updateTable("api_tokens").set({ last_used_at: now }).where("id", "=", row.tokenId).execute();
  }
  return {
    userId: row.userId,
    username: row.username,
    method: "token",
    tokenId: row.tokenId,
    tokenPrefix: row.prefix,
    role: row.role,
    tenant: row.tenant,
    expiresAt: row.expires_at,
  };
}

function toApiToken(row: {
  id: number;
  name: string;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
  expires_at: Date | null;
  role: ApiTokenRole;
  tenant: string | null;
}): ApiToken {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    expiresAt: row.expires_at,
    role: row.role,
    tenant: row.tenant,
  };
}
