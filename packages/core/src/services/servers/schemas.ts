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
export const masterAdminInputSchema = z.object({
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

/** A token endpoint other than the provider's public one (a proxy, or a test server). */
export const tokenUrlSchema = z
  .string()
  .trim()
  .max(2048, "A token endpoint URL has at most 2048 characters.")
  .regex(/^https?:\/\/[^\s]+$/, "The token endpoint must be an http:// or https:// URL.");

/**
 * The OAuth client mailbox owners sign in to with "Connect with Google / Microsoft" on a server: a web
 * (confidential, with a secret) or public client registered with the provider, whose redirect URI is
 * `<IMAPFERRY_PUBLIC_URL>/oauth2/callback`.
 */
export const connectClientInputSchema = z.object({
  provider: z.enum(["google", "microsoft"], "Choose the provider: google or microsoft."),
  clientId: z.string().trim().min(1, "Enter the OAuth client id.").max(512),
  /** Write-only; absent for a public client. Left out on an update, the stored one is kept. */
  clientSecret: z.string().max(1024).optional(),
  /** @defaultValue the provider's public authorization endpoint */
  authorizeUrl: tokenUrlSchema.optional(),
  /** @defaultValue the provider's public token endpoint */
  tokenUrl: tokenUrlSchema.optional(),
});
export type ConnectClientInput = z.output<typeof connectClientInputSchema>;

/**
 * A Google service account with domain-wide delegation: the worker signs a JWT per mailbox with the
 * key and logs in as the mailbox with the access token it gets (XOAUTH2).
 */
export const googleServiceAccountInputSchema = z.object({
  mode: z.literal("google-service-account"),
  /** The JSON key file's whole text, as the Google Cloud console downloads it. Write-only. */
  serviceAccountKey: z.string().min(1, "Paste the service account's JSON key.").max(20_000),
  /** @defaultValue Google's public token endpoint (https://oauth2.googleapis.com/token) */
  tokenUrl: tokenUrlSchema.optional(),
});

/** A Microsoft 365 app (client credentials, IMAP.AccessAsApp): one app token opens each mailbox. */
export const microsoftAppInputSchema = z.object({
  mode: z.literal("microsoft-app"),
  /** The directory (tenant) id: a GUID, or a domain such as contoso.onmicrosoft.com. */
  tenantId: z
    .string()
    .trim()
    .regex(
      /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|(?=.{4,253}$)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)$/,
      "The tenant id is the Directory (tenant) ID from Entra ID, such as 72f988bf-86f1-41af-91ab-2d7cd011db47, or the tenant's domain (contoso.onmicrosoft.com).",
    ),
  clientId: z
    .string()
    .trim()
    .regex(
      /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
      "The client id is the app's Application (client) ID, a GUID such as 00000000-0000-0000-0000-000000000000.",
    ),
  /** Write-only. */
  clientSecret: z.string().min(1, "Enter the app's client secret.").max(1024),
  /** @defaultValue https://login.microsoftonline.com/<tenantId>/oauth2/v2.0/token */
  tokenUrl: tokenUrlSchema.optional(),
});

/**
 * A server's admin credentials: a master user (modes sasl-authzid, login-separator), a Google service
 * account, or a Microsoft 365 app. Jobs on the server then need only the mailbox login.
 */
export const serverAdminInputSchema = z.discriminatedUnion(
  "mode",
  [masterAdminInputSchema, googleServiceAccountInputSchema, microsoftAppInputSchema],
  {
    error:
      "Choose how the admin logs in: SASL PLAIN with authorization identity, login with a separator, a Google service account, or a Microsoft 365 app.",
  },
);
export type ServerAdminInput = z.input<typeof serverAdminInputSchema>;

/** Smallest byte budget: less than a megabyte would stop a run after its first larger message. */
export const MIN_BUDGET_BYTES = 1_000_000;

/** A daily byte budget per account, or null for none. */
function budgetSchema(what: "download" | "upload") {
  const sentence = `The daily ${what} budget must be at least 1 MB (${MIN_BUDGET_BYTES.toLocaleString("en-US")} bytes, a whole number), or empty for no limit.`;
  return z
    .number(sentence)
    .int(sentence)
    .min(MIN_BUDGET_BYTES, sentence)
    .max(Number.MAX_SAFE_INTEGER, sentence)
    .nullable()
    .default(null);
}

export const serverInputSchema = z.object({
  name: plainText(z.string().trim().min(1, "Give the server a name.").max(200)),
  host: hostSchema,
  port: z.number().int().min(1).max(65535).default(993),
  security: z.enum(SERVER_SECURITIES).default("tls"),
  /** Accept a self-signed or otherwise untrusted certificate. @defaultValue false */
  acceptSelfSigned: z.boolean().default(false),
  /** @defaultValue null (the global default from settings) */
  sourceHostLimit: z.number().int().min(1).max(1000).nullable().default(null),
  /**
   * Bytes a run may read from one source account per budget window (settings.budgetWindowSeconds, a
   * day by default); a run that reaches it waits until the window resets. @defaultValue null (no limit)
   */
  dailyDownloadBytes: budgetSchema("download"),
  /** Bytes a run may write to one destination account per budget window. @defaultValue null (no limit) */
  dailyUploadBytes: budgetSchema("upload"),
  /**
   * Most IMAP connections a run opens to one account on this server (the built-in engine's parallel
   * folders; imapsync uses one per side). @defaultValue null (the engine's own)
   */
  maxConnections: z
    .number("The connection cap is a whole number from 1 to 100, or empty for the engine's own.")
    .int("The connection cap is a whole number from 1 to 100, or empty for the engine's own.")
    .min(1, "The connection cap is a whole number from 1 to 100, or empty for the engine's own.")
    .max(100, "The connection cap is a whole number from 1 to 100, or empty for the engine's own.")
    .nullable()
    .default(null),
  /** Admin credentials, or null for none (each job then carries its mailbox's password). @defaultValue null */
  admin: serverAdminInputSchema.nullable().default(null),
  /**
   * The OAuth client for "Connect with Google / Microsoft" on jobs' sides, or null for none.
   * @defaultValue null
   */
  connect: connectClientInputSchema.nullable().default(null),
});
export type ServerInput = z.input<typeof serverInputSchema>;

export const createServerInputSchema = serverInputSchema;
export const updateServerInputSchema = serverInputSchema.partial().extend({ id: idSchema });
export type UpdateServerInput = z.input<typeof updateServerInputSchema>;
export const serverIdInputSchema = z.object({ id: idSchema });
