import { z } from "zod";
import { type FieldProblem, ImapferryError } from "../errors.ts";

/**
 * Control characters (C0 and C1, NUL included) and DEL. No name, login, tag or search term needs them;
 * PostgreSQL refuses NUL in text (which made such input a 500), and the others garble logs and screens.
 */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/**
 * The shared refinement for every free-text field: `plainText(z.string().trim().max(200))`. The
 * sentence names nothing itself; the API puts the field's path in front of it.
 */
export function plainText<T extends z.ZodString>(schema: T) {
  return schema.refine((value) => !hasControlCharacter(value), {
    message: "Control characters (such as NUL, escape or line breaks) are not allowed here.",
    abort: true,
  });
}

/** Largest value of a PostgreSQL integer column: ids and cursors beyond it name nothing. */
export const MAX_ID = 2_147_483_647;

/** A page cursor: a row id as a decimal string. */
export const cursorSchema = z
  .string()
  .regex(/^\d{1,10}$/, "A cursor is the nextCursor of the previous page.")
  .refine((v) => Number(v) <= MAX_ID, "A cursor is the nextCursor of the previous page.");

/**
 * A mailbox login as IMAP servers take it: an address (`alice@example.com`), a plain user name
 * (`alice`), `DOMAIN\\user` … Any non-empty text without control characters, at most 320 characters,
 * not starting with "-" (imapsync would read it as an option). Nothing may assume it holds an "@".
 */
export const loginSchema = plainText(
  z
    .string()
    .trim()
    .min(1, "Enter the login (an email address or a user name).")
    .max(320, "A login has at most 320 characters."),
)
  // imapsync reads a login starting with "-" as an option; the pre-flight would try it first.
  .refine((v) => !v.startsWith("-"), { message: 'A login cannot start with "-".', abort: true });

/** Why `login` is not a valid mailbox login, in the words of loginSchema; null when it is one. */
export function loginProblem(login: string): string | null {
  const parsed = loginSchema.safeParse(login);
  return parsed.success ? null : (parsed.error.issues[0]?.message ?? "This is not a valid login.");
}

/** Passwords are kept verbatim: spaces at either end can be part of one. */
export const passwordSchema = z
  .string()
  .min(1, "Enter the password.")
  .max(1024, "A password has at most 1024 characters.")
  .refine((p) => !/[\0\r\n]/.test(p), "A password cannot contain line breaks or NUL characters.");

export const jobNameSchema = plainText(z.string().trim().max(200, "A job name has at most 200 characters."));
export const tenantSchema = plainText(z.string().trim().min(1).max(200));
export const poolSchema = z
  .string()
  .trim()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,62}$/i,
    "Pool names use letters, digits, '-' and '_' (at most 63 characters).",
  );
/** Higher runs first. @defaultValue 0 */
export const prioritySchema = z.number().int().min(-1000).max(1000);
export const idSchema = z.number().int().positive().max(MAX_ID, "No id is that large.");

export function problemsFromZod(error: z.ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((p) => (typeof p === "symbol" ? String(p) : p)),
    message: issue.message,
  }));
}

/** Parses a service's input, or throws BAD_INPUT "The <what> is not valid." with a problem per field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success)
    throw new ImapferryError("BAD_INPUT", `The ${what} is not valid.`, problemsFromZod(parsed.error));
  return parsed.data;
}
