import { JOB_STATUSES } from "@imapferry/db";
import { z } from "zod";
import { engineOptionsSchema } from "../../engines/options.ts";
import { askOwnerSchema } from "../credential-requests/schemas.ts";
import { tokenUrlSchema } from "../servers/schemas.ts";
import {
  cursorSchema,
  idSchema,
  jobNameSchema,
  loginSchema,
  passwordSchema,
  plainText,
  poolSchema,
  prioritySchema,
  tenantSchema,
} from "../validation.ts";

/**
 * A job side's delegated OAuth2 grant instead of a password: the mailbox owner's refresh token and the
 * OAuth client it was issued to. All of it is write-only.
 */
export const delegatedOAuth2InputSchema = z.object({
  provider: z.enum(["google", "microsoft"], "Choose the provider: google or microsoft."),
  refreshToken: z.string().trim().min(1, "Enter the refresh token.").max(8192),
  clientId: z.string().trim().min(1, "Enter the OAuth client id the refresh token was issued to.").max(512),
  /** For confidential clients; public clients (PKCE) have none. */
  clientSecret: z.string().max(1024).optional(),
  /** @defaultValue the provider's public token endpoint (Microsoft: the "common" tenant) */
  tokenUrl: tokenUrlSchema.optional(),
});

/** The engines' allow-list: nothing else can reach an engine's argv. */
export const jobOptionsSchema = engineOptionsSchema;

/** The sentence for a side that needs a password: its server has no admin credentials to log in with. */
export function passwordRequiredSentence(side: "source" | "destination"): string {
  return `The ${side} server has no admin credentials, so the ${side} password is required.`;
}

/** A mailbox password that may be left out (or empty) where the server's admin credentials log in. */
const optionalPasswordSchema = z.union([z.literal(""), passwordSchema]).optional();

export const createJobInputSchema = z.object({
  name: jobNameSchema.optional(),
  sourceServerId: idSchema,
  /** The source mailbox's login: an address, a user name, `DOMAIN\\user` … (the name is kept for compatibility). */
  sourceEmail: loginSchema,
  /**
   * Required unless the source server has admin credentials; given, it wins over them. Empty counts as
   * absent.
   */
  sourcePassword: optionalPasswordSchema,
  /**
   * Instead of the password: the source mailbox's OAuth2 refresh token and its client. Tried once at the
   * token endpoint before the job is stored.
   */
  sourceOAuth2: delegatedOAuth2InputSchema.optional(),
  /**
   * Instead of the source password: ask the mailbox's owner for it through a single-use link (emailed
   * to `email` and/or returned in the answer's `credentialRequest.url`). The job waits, status
   * `awaiting_credentials`, until the owner has entered a password the server accepts.
   */
  askOwner: askOwnerSchema.optional(),
  destServerId: idSchema,
  /** The destination mailbox's login. */
  destEmail: loginSchema,
  /** Required unless the destination server has admin credentials; given, it wins over them. */
  destPassword: optionalPasswordSchema,
  /** Instead of the password: the destination mailbox's OAuth2 refresh token and its client. */
  destOAuth2: delegatedOAuth2InputSchema.optional(),
  /**
   * Instead of a password: a connection made with "Connect with Google / Microsoft"
   * (oauth2.connect.start), for the source server; the job takes its grant and the connection is used up.
   */
  sourceConnectionId: idSchema.optional(),
  /** The same, for the destination side. */
  destConnectionId: idSchema.optional(),
  /** A dry run connects and counts but copies nothing. @defaultValue true */
  dryRun: z.boolean().default(true),
  options: jobOptionsSchema.default(() => jobOptionsSchema.parse({})),
  batchId: idSchema.optional(),
  tenant: tenantSchema.optional(),
  /** Worker pool; defaults to the batch's, then the tenant's routing rule, then the default pool. */
  pool: poolSchema.optional(),
  priority: prioritySchema.default(0),
});
export type CreateJobInput = z.input<typeof createJobInputSchema>;

/** Columns the jobs list sorts by. */
export const JOB_SORT_KEYS = ["created", "finished", "status", "name"] as const;
export type JobSortKey = (typeof JOB_SORT_KEYS)[number];

export const listJobsInputSchema = z.object({
  status: z.union([z.enum(JOB_STATUSES), z.array(z.enum(JOB_STATUSES)).max(JOB_STATUSES.length)]).optional(),
  batchId: idSchema.optional(),
  tenant: plainText(z.string().max(200)).optional(),
  /**
   * Also list runs a later run of the same mailbox pair in their batch replaced (history).
   * @defaultValue false
   */
  includeSuperseded: z.boolean().default(false),
  /** Free text matched against the name, both logins and both servers' names. */
  q: plainText(z.string().trim().max(200)).optional(),
  /** What the list is ordered by. @defaultValue "created" */
  sort: z.enum(JOB_SORT_KEYS).default("created"),
  /** @defaultValue "desc" (newest, latest finished, last name first) */
  direction: z.enum(["asc", "desc"]).default("desc"),
  /** From the previous page's `nextCursor`. */
  cursor: cursorSchema.optional(),
  /** @defaultValue 50 */
  limit: z.number().int().min(1).max(500).default(50),
});
export type ListJobsInput = z.input<typeof listJobsInputSchema>;

export const editJobInputSchema = z.object({
  id: idSchema,
  name: jobNameSchema.optional(),
  sourceServerId: idSchema.optional(),
  sourceEmail: loginSchema.optional(),
  /** Empty or absent keeps the stored password. */
  sourcePassword: optionalPasswordSchema,
  /** Replaces the source password or refresh token with this grant (tried once first). */
  sourceOAuth2: delegatedOAuth2InputSchema.optional(),
  destServerId: idSchema.optional(),
  destEmail: loginSchema.optional(),
  destPassword: optionalPasswordSchema,
  /** Replaces the destination password or refresh token with this grant (tried once first). */
  destOAuth2: delegatedOAuth2InputSchema.optional(),
  dryRun: z.boolean().optional(),
  options: jobOptionsSchema.optional(),
  priority: prioritySchema.optional(),
});
export type EditJobInput = z.input<typeof editJobInputSchema>;

export const jobIdInputSchema = z.object({ id: idSchema });
export const deleteJobInputSchema = z.object({
  id: idSchema,
  /** Remove the row, its logs and its queue entry for good (otherwise it is only hidden). @defaultValue false */
  hard: z.boolean().default(false),
});
export const rerunJobInputSchema = z.object({
  id: idSchema,
  /** Override the original's dry-run flag ("Run real" after a dry run, "Dry run" to retest a failure). */
  dryRun: z.boolean().optional(),
});

export const BULK_ACTIONS = ["cancel", "delete", "rerun"] as const;
export const bulkJobsInputSchema = z
  .object({
    action: z.enum(BULK_ACTIONS),
    ids: z.array(idSchema).min(1).max(100_000).optional(),
    batchId: idSchema.optional(),
    /** delete only. @defaultValue false */
    hard: z.boolean().default(false),
    /** rerun only: override every job's dry-run flag. */
    dryRun: z.boolean().optional(),
  })
  .refine((v) => (v.ids === undefined) !== (v.batchId === undefined), {
    message: "Give either a list of job ids or a batch id.",
    path: ["ids"],
  });
export type BulkJobsInput = z.input<typeof bulkJobsInputSchema>;
