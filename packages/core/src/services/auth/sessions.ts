import type { ApiTokenRole } from "@imapferry/db";
import type { ServiceContext } from "../../context.ts";
import { notifyCredentialsEnded } from "./credentials-ended.ts";
import { hashSecret, randomSecret } from "./secrets.ts";

/** @defaultValue 14 days */
export const DEFAULT_SESSION_TTL_MS = 14 * 24 * 60 * 60 * 1000;

/** Who is calling, as every authenticated request sees it. */
export interface Principal {
  userId: number;
  username: string;
  /** How the caller proved who it is. */
  method: "session" | "token";
  /** The API token used, for `method: "token"`, and its first characters (to tell it apart in logs). */
  tokenId: number | null;
  tokenPrefix: string | null;
  /** What the caller may do (permissions.ts); a person (session) is `admin`. */
  role: ApiTokenRole;
  /** The one tenant the caller sees (tenant-scope.ts); null: every tenant. */
  tenant: string | null;
  /** When the caller's token stops working; null for a session or a token without expiry. */
  expiresAt: Date | null;
}

/** A person, logged in: every role's power, every tenant. */
export function personPrincipal(userId: number, username: string): Principal {
  return {
    userId,
    username,
    method: "session",
    tokenId: null,
    tokenPrefix: null,
    role: "admin",
    tenant: null,
    expiresAt: null,
  };
}

export interface NewSession {
  /** The cookie value. Only its hash is stored: this is the one moment it exists in clear. */
  sessionId: string;
  expiresAt: Date;
}

export async function createSession(
  ctx: ServiceContext,
  userId: number,
  options: { ttlMs?: number } = {},
): Promise<NewSession> {
  const sessionId = randomSecret();
  const expiresAt = new Date(ctx.clock.now().getTime() + (options.ttlMs ?? DEFAULT_SESSION_TTL_MS));
  await ctx.db
    .insertInto("sessions")
    .values({ id_hash: hashSecret(sessionId), user_id: userId, expires_at: expiresAt })
    .execute();
  // Expired sessions are useless; dropping them here keeps the table small without a sweeper task.
  await ctx.db.deleteFrom("sessions").where("expires_at", "<", ctx.clock.now()).execute();
  return { sessionId, expiresAt };
}

export async function resolveSession(ctx: ServiceContext, sessionId: string): Promise<Principal | null> {
  if (sessionId === "" || sessionId.length > 200) return null;
  // Every panel request runs this: a named (prepared once per connection) plain query skips the
  // query builder's per-call work.
  const result = await ctx.pool.query<{ userId: number; username: string; expires_at: Date }>({
    name: "imapferry_resolve_session",
    text: `select u.id as "userId", u.username, s.expires_at
           from sessions s join users u on u.id = s.user_id
           where s.id_hash = $1`,
    values: [hashSecret(sessionId)],
  });
  const row = result.rows[0];
  if (!row || row.expires_at.getTime() <= ctx.clock.now().getTime()) return null;
  return personPrincipal(row.userId, row.username);
}

export async function endSession(ctx: ServiceContext, sessionId: string): Promise<void> {
  const ended = await ctx.db
    .deleteFrom("sessions")
    .where("id_hash", "=", hashSecret(sessionId))
    .returning("user_id")
    .executeTakeFirst();
  if (ended) await notifyCredentialsEnded(ctx.db, ended.user_id);
}
