import type { ServiceContext } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import { parseInput } from "../validation.ts";
import { notifyCredentialsEnded } from "./credentials-ended.ts";
import { type CreateApiTokenInput, createApiTokenInputSchema } from "./schemas.ts";
import { hashSecret, randomSecret } from "./secrets.ts";
import type { Principal } from "./sessions.ts";

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
] as const;

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
}

/** Creates a token for the user. The returned `token` is shown once and never stored in clear. */
export async function createApiToken(
  ctx: ServiceContext,
  userId: number,
  input: CreateApiTokenInput,
): Promise<{ token: string; apiToken: ApiToken }> {
  const { name, expiresInDays } = parseInput(createApiTokenInputSchema, input, "token");
  const token = `${API_TOKEN_PREFIX}${randomSecret()}`;
  const expiresAt =
    expiresInDays === undefined ? null : new Date(ctx.clock.now().getTime() + expiresInDays * 86_400_000);
  const row = await ctx.db
    .insertInto("api_tokens")
    .values({
      user_id: userId,
      name,
      token_hash: hashSecret(token),
      prefix: token.slice(0, SHOWN_PREFIX_LENGTH),
      expires_at: expiresAt,
    })
    .returning(TOKEN_COLUMNS)
    .executeTakeFirstOrThrow();
  ctx.log.info("created an API token", { userId, tokenId: row.id, prefix: row.prefix });
  return { token, apiToken: toApiToken(row) };
}

export async function listApiTokens(ctx: ServiceContext, userId: number): Promise<ApiToken[]> {
  const rows = await ctx.db
    .selectFrom("api_tokens")
    .select(TOKEN_COLUMNS)
    .where("user_id", "=", userId)
    .orderBy("id")
    .execute();
  return rows.map(toApiToken);
}

/** Revokes one of the user's tokens; it stops working at once. Revoking twice is not an error. */
export async function revokeApiToken(
  ctx: ServiceContext,
  userId: number,
  tokenId: number,
): Promise<ApiToken> {
  const row = await ctx.db
    .updateTable("api_tokens")
    .set((eb) => ({ revoked_at: eb.fn.coalesce("revoked_at", eb.val(ctx.clock.now())) }))
    .where("id", "=", tokenId)
    .where("user_id", "=", userId)
    .returning(TOKEN_COLUMNS)
    .executeTakeFirst();
  if (!row) throw new ImapferryError("NOT_FOUND", `You have no API token with id ${tokenId}.`);
  await notifyCredentialsEnded(ctx.db, userId);
  ctx.log.info("revoked an API token", { userId, tokenId });
  return toApiToken(row);
}

export async function resolveApiToken(ctx: ServiceContext, token: string): Promise<Principal | null> {
  if (!token.startsWith(API_TOKEN_PREFIX) || token.length > 200) return null;
  // Every API request runs this: a named (prepared once per connection) plain query skips the query
  // builder's per-call work.
  const result = await ctx.pool.query<{
    tokenId: number;
    last_used_at: Date | null;
    userId: number;
    username: string;
  }>({
    name: "imapferry_resolve_api_token",
    text: `select t.id as "tokenId", t.last_used_at, u.id as "userId", u.username
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
  return { userId: row.userId, username: row.username, method: "token", tokenId: row.tokenId };
}

function toApiToken(row: {
  id: number;
  name: string;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
  expires_at: Date | null;
}): ApiToken {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    expiresAt: row.expires_at,
  };
}
