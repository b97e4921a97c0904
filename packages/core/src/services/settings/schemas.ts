import { z } from "zod";
import { explicitEngineOptionsSchema } from "../../engines/options.ts";
import { poolSchema } from "../validation.ts";

/** The faults the retry policy can retry (see `retryCategories`). */
export const RETRY_CATEGORIES = ["connection", "throttled", "oauth2-token"] as const;
export type RetryCategory = (typeof RETRY_CATEGORIES)[number];
const RETRY_CATEGORIES_SENTENCE = `Retried faults are a list of distinct names from: ${RETRY_CATEGORIES.join(", ")}.`;

const BUDGET_WINDOW_SENTENCE =
  "The budget window is a whole number of seconds from 1 to 2592000 (30 days); 86400 is a day.";

/**
 * Operator settings, one row per key in the `settings` table. Every key has a default, so a fresh
 * installation needs no row at all; unknown or malformed stored values fall back to the default rather
 * than stopping the job system.
 */
export const settingsSchema = z.object({
  /** Who is emailed when jobs and batches end. @defaultValue [] */
  notificationRecipients: z.array(z.email()).max(50).default([]),
  /** Also email for each job of a batch, not only the batch summary. @defaultValue false */
  perJobEmailsInBatches: z.boolean().default(false),
  /** Migrations one worker runs at once (a worker started with an explicit concurrency ignores it). @defaultValue 4 */
  workerConcurrency: z.number().int().min(1).max(64).default(4),
  /** Migrations that may read from one source server at once, across all workers, unless the server sets its own. @defaultValue 2 */
  defaultSourceHostLimit: z.number().int().min(1).max(1000).default(2),
  /**
   * Most IMAP connections one migration opens to each account (the built-in engine copies folders in
   * parallel over pairs of them; imapsync holds one per side). A server's own connection cap lowers it
   * for its accounts. @defaultValue 4
   */
  connectionsPerAccount: z
    .number("Connections per account is a whole number from 1 to 16.")
    .int("Connections per account is a whole number from 1 to 16.")
    .min(1, "Connections per account is a whole number from 1 to 16.")
    .max(16, "Connections per account is a whole number from 1 to 16.")
    .default(4),
  /** Resume a migration whose worker died. @defaultValue true */
  autoResume: z.boolean().default(true),
  /** How many times one job is resumed automatically before it stays `interrupted`. @defaultValue 3 */
  maxResumeAttempts: z.number().int().min(0).max(100).default(3),
  /**
   * How long a worker's claim on a running job lasts without a heartbeat; a job whose lease expired is
   * interrupted and resumed elsewhere. @defaultValue 60
   */
  leaseSeconds: z.number().int().min(2).max(3600).default(60),
  /**
   * Automatic retries of one job after a passing fault (a dropped connection, a throttling server):
   * the run ends `waiting` and resumes by itself. 0 turns them off. @defaultValue 5
   */
  retryMaxAttempts: z.number().int().min(0).max(100).default(5),
  /**
   * Which passing faults are retried by themselves: `connection` (a connection that dropped and could
   * not be reopened, or a server that refused connections), `throttled` (a server that asked to slow
   * down or wait), `oauth2-token` (a token endpoint that did not answer, an access token that expired
   * under imapsync). A fault left out fails the job at once, for a person to look at. @defaultValue all
   */
  retryCategories: z
    .array(z.enum(RETRY_CATEGORIES, { error: RETRY_CATEGORIES_SENTENCE }))
    .max(RETRY_CATEGORIES.length)
    .refine((list) => new Set(list).size === list.length, RETRY_CATEGORIES_SENTENCE)
    .default([...RETRY_CATEGORIES]),
  /** The first retry's wait; each further one doubles it (with jitter), up to the cap. @defaultValue 60 */
  retryBaseSeconds: z.number().int().min(1).max(86_400).default(60),
  /** The longest wait between automatic retries. @defaultValue 3600 */
  retryCapSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 86_400)
    .default(3600),
  /**
   * How long a server's byte budgets (daily download / upload per account) last before they reset;
   * windows are aligned to the epoch (a day's starts at 00:00 UTC). @defaultValue 86400 (a day)
   */
  budgetWindowSeconds: z
    .number(BUDGET_WINDOW_SENTENCE)
    .int(BUDGET_WINDOW_SENTENCE)
    .min(1, BUDGET_WINDOW_SENTENCE)
    .max(30 * 86_400, BUDGET_WINDOW_SENTENCE)
    .default(86_400),
  /**
   * The shortest interval a batch plan may repeat its delta passes at: each pass reads every mailbox
   * of the batch on both servers, so a busy installation keeps this high. @defaultValue 3600
   */
  planMinIntervalSeconds: z
    .number()
    .int()
    .min(1)
    .max(30 * 86_400)
    .default(3600),
  /**
   * Engine options every new job starts with, under its batch's and its own (row > batch > settings >
   * built-in default). Only the options set here; the rest keep their built-in defaults. @defaultValue {}
   */
  defaultEngineOptions: explicitEngineOptionsSchema.default({}),
  /** Routing rules: jobs and batches of a tenant go to this worker pool unless they name one. @defaultValue {} */
  tenantPools: z.record(z.string().min(1).max(200), poolSchema).default({}),
});

export type Settings = z.infer<typeof settingsSchema>;
export type SettingsPatch = Partial<Settings>;
export const settingsPatchSchema = settingsSchema.partial();
export const SETTINGS_DEFAULTS: Settings = settingsSchema.parse({});
