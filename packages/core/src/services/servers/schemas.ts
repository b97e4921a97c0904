import { ADMIN_MODES, SERVER_SECURITIES } from "@imapferry/db";
import { z } from "zod";
import { idSchema, loginSchema, passwordSchema, plainText } from "../validation.ts";

const hostSchema = z
  .string()
  .trim()
  .min(1, "Enter the server's host name or IP address.")
  .max(253)
  .regex(
    /^[A-Za-z0-9.:[\]_-]+$/,
    "A host name has letters, digits, dots, dashes (or is an IP address), and no spaces.",
  );

/**
 * Admin (master user / proxy auth) credentials: the engine logs in as `login` with `password` on
 * behalf of each job's mailbox login, so jobs on this server need no password of their own.
 */
export const serverAdminInputSchema = z.object({
  /**
   * `sasl-authzid`: SASL PLAIN with the mailbox login as authorization identity (Dovecot master
   * users, Cyrus, imapsync --authuser). `login-separator`: LOGIN as "<mailbox><separator><admin>"
   * (Dovecot's auth_master_user_separator).
   */
  mode: z.enum(
    ADMIN_MODES,
    "Choose how the admin logs in: SASL PLAIN with authorization identity, or login with a separator.",
  ),
  login: loginSchema,
  password: passwordSchema,
  /** Between the mailbox login and the admin login, `login-separator` mode only. @defaultValue "*" */
  separator: z
    .string()
    .min(1, "Enter the separator, such as *.")
    .max(8, "A separator has at most 8 characters.")
    .regex(/^[\x21-\x7e]+$/, "A separator is printable ASCII without spaces, such as *.")
    .default("*"),
});
export type ServerAdminInput = z.input<typeof serverAdminInputSchema>;

export const serverInputSchema = z.object({
  name: plainText(z.string().trim().min(1, "Give the server a name.").max(200)),
  host: hostSchema,
  port: z.number().int().min(1).max(65535).default(993),
  security: z.enum(SERVER_SECURITIES).default("tls"),
  /** Accept a self-signed or otherwise untrusted certificate. @defaultValue false */
  acceptSelfSigned: z.boolean().default(false),
  /** @defaultValue null (the global default from settings) */
  sourceHostLimit: z.number().int().min(1).max(1000).nullable().default(null),
  /** Admin credentials, or null for none (each job then carries its mailbox's password). @defaultValue null */
  admin: serverAdminInputSchema.nullable().default(null),
});
export type ServerInput = z.input<typeof serverInputSchema>;

export const createServerInputSchema = serverInputSchema;
export const updateServerInputSchema = serverInputSchema.partial().extend({ id: idSchema });
export type UpdateServerInput = z.input<typeof updateServerInputSchema>;
export const serverIdInputSchema = z.object({ id: idSchema });
