import { sql } from "kysely";
import type { z } from "zod";
import type { ServiceContext } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import { notifyCredentialsEnded } from "./credentials-ended.ts";
import { decoyPasswordHash, generatePassword, hashPassword, verifyPassword } from "./password-hash.ts";
import { type LoginInput, newPasswordSchema, usernameSchema } from "./schemas.ts";

export const INITIAL_ADMIN_USERNAME = "admin";

/** A user as everything outside this module sees one: never with the password hash. */
export interface User {
  id: number;
  username: string;
  createdAt: Date;
}

/** One field checked against its schema; the error names the field, as bad input anywhere does. */
function parseField(schema: z.ZodType<string>, value: string, field: string): string {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ImapferryError(
      "BAD_INPUT",
      parsed.error.issues[0]?.message ?? `Invalid ${field}.`,
      parsed.error.issues.map((issue) => ({ path: [field], message: issue.message })),
    );
  }
  return parsed.data;
}

const parseUsername = (username: string) => parseField(usernameSchema, username, "username");
const parseNewPassword = (password: string) => parseField(newPasswordSchema, password, "password");

/**
 * On a database with no user at all, creates `admin` with a generated password and returns that
 * password so the caller can print it once. Returns null when any user exists. Safe to call from
 * several processes starting at once: only one insert can win.
 */
export async function ensureInitialAdmin(ctx: ServiceContext): Promise<string | null> {
  const existing = await ctx.db.selectFrom("users").select("id").limit(1).executeTakeFirst();
  if (existing) return null;
  const password = generatePassword();
  const passwordHash = await hashPassword(password);
  // One statement, so two processes starting at once cannot both create a first user.
  const inserted = await sql<{ id: number }>`
    insert into users (username, password_hash)
    select ${INITIAL_ADMIN_USERNAME}, ${passwordHash}
    where not exists (select 1 from users)
    on conflict (username) do nothing
    returning id`.execute(ctx.db);
  if (inserted.rows.length === 0) return null;
  ctx.log.info("created the initial admin user", { username: INITIAL_ADMIN_USERNAME });
  return password;
}

/** Creates a user. With no password given, generates one; returns the password so it can be shown once. */
export async function createUser(
  ctx: ServiceContext,
  input: { username: string; password?: string },
): Promise<{ user: User; password: string }> {
  const username = parseUsername(input.username);
  const password = input.password === undefined ? generatePassword() : parseNewPassword(input.password);
  const passwordHash = await hashPassword(password);
  const row = await ctx.db
    .insertInto("users")
    .values({ username, password_hash: passwordHash })
    .onConflict((oc) => oc.column("username").doNothing())
    .returning(["id", "username", "created_at"])
    .executeTakeFirst();
  if (!row) {
    throw new ImapferryError(
      "CONFLICT",
      `A user named "${username}" already exists. Use reset-password to change its password.`,
      [{ path: ["username"], message: "already exists" }],
    );
  }
  ctx.log.info("created a user", { username });
  return { user: { id: row.id, username: row.username, createdAt: row.created_at }, password };
}

/**
 * Sets a new password (generated when none is given), ends every session of the user and revokes their
 * API tokens: whoever knew the old password must not stay logged in, nor keep a token they made.
 */
export async function resetPassword(
  ctx: ServiceContext,
  input: { username: string; password?: string },
): Promise<{ user: User; password: string; revokedTokens: number }> {
  const username = parseUsername(input.username);
  const password = input.password === undefined ? generatePassword() : parseNewPassword(input.password);
  const passwordHash = await hashPassword(password);
  const row = await ctx.db.transaction().execute(async function updatePassword(trx) {
    const updated = await trx
      .updateTable("users")
      .set({ password_hash: passwordHash })
      .where("username", "=", username)
      .returning(["id", "username", "created_at"])
      .executeTakeFirst();
    if (!updated) return undefined;
    await trx.deleteFrom("sessions").where("user_id", "=", updated.id).execute();
    // Tokens go too: whoever had the password could have made them.
    const revoked = await trx
      .updateTable("api_tokens")
      .set({ revoked_at: ctx.clock.now() })
      .where("user_id", "=", updated.id)
      .where("revoked_at", "is", null)
      .returning("id")
      .execute();
    await notifyCredentialsEnded(trx, updated.id);
    return { ...updated, revokedTokens: revoked.length };
  });
  if (!row) throw new ImapferryError("NOT_FOUND", `There is no user named "${username}".`);
  ctx.log.info("reset a user's password", { username, revokedTokens: row.revokedTokens });
  return {
    user: { id: row.id, username: row.username, createdAt: row.created_at },
    password,
    revokedTokens: row.revokedTokens,
  };
}

/** The user whose password this is, or null. Takes the same time whether or not the user exists. */
export async function verifyCredentials(ctx: ServiceContext, input: LoginInput): Promise<User | null> {
  const row = await ctx.db
    .selectFrom("users")
    .select(["id", "username", "password_hash", "created_at"])
    .where("username", "=", input.username.trim())
    .executeTakeFirst();
  const matches = await verifyPassword(input.password, row?.password_hash ?? (await decoyPasswordHash()));
  if (!row || !matches) return null;
  return { id: row.id, username: row.username, createdAt: row.created_at };
}

export async function listUsers(ctx: ServiceContext): Promise<User[]> {
  const rows = await ctx.db
    .selectFrom("users")
    .select(["id", "username", "created_at"])
    .orderBy("id")
    .execute();
  return rows.map((row) => ({ id: row.id, username: row.username, createdAt: row.created_at }));
}
