import { z } from "zod";
import { type FieldProblem, ImapferryError } from "../errors.ts";

/**
 * An IMAP login in address form. Deliberately plainer than RFC 5322: one "@", no spaces or control
 * characters, a dotted domain (or an IP literal) — what mail providers accept as account names.
 */
export const EMAIL_PATTERN =
  /^[^\s@"<>()[\],;:\\]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+|\[[0-9A-Fa-f:.]+\])$/;

export const emailSchema = z
  .string()
  .trim()
  .max(320, "An email address has at most 320 characters.")
  .regex(EMAIL_PATTERN, "Enter an email address such as alice@example.com.");

/** Passwords are kept verbatim: spaces at either end can be part of one. */
export const passwordSchema = z
  .string()
  .min(1, "Enter the password.")
  .max(1024, "A password has at most 1024 characters.")
  .refine((p) => !/[\0\r\n]/.test(p), "A password cannot contain line breaks or NUL characters.");

export const jobNameSchema = z.string().trim().max(200, "A job name has at most 200 characters.");
export const tenantSchema = z.string().trim().min(1).max(200);
export const poolSchema = z
  .string()
  .trim()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,62}$/i,
    "Pool names use letters, digits, '-' and '_' (at most 63 characters).",
  );
/** Higher runs first. @defaultValue 0 */
export const prioritySchema = z.number().int().min(-1000).max(1000);
export const idSchema = z.number().int().positive();

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
