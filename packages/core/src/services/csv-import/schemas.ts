import { z } from "zod";
import { explicitEngineOptionsSchema } from "../../engines/options.ts";
import { batchTagSchema } from "../batches/schemas.ts";
import { askOwnersSchema } from "../credential-requests/schemas.ts";
import { poolSchema, prioritySchema, tenantSchema } from "../validation.ts";

export const CSV_MAX_BYTES = 32 * 1024 * 1024;

export const importCsvInputSchema = z.object({
  csv: z
    .string()
    .max(
      CSV_MAX_BYTES,
      `A CSV file is at most ${CSV_MAX_BYTES / 1024 / 1024} MiB; split it into several imports.`,
    ),
  /** The batch tag every imported job shares; generated when absent. */
  tag: batchTagSchema.optional(),
  tenant: tenantSchema.optional(),
  pool: poolSchema.optional(),
  /** Rows without a dryRun value use this. @defaultValue true */
  dryRun: z.boolean().default(true),
  /** The batch's engine options: every row starts with them (over the settings'); a row's option columns win. */
  options: explicitEngineOptionsSchema.default({}),
  priority: prioritySchema.default(0),
  /**
   * Import the valid rows and return the others with their reasons, instead of importing nothing when
   * a row has a problem. @defaultValue false
   */
  skipInvalid: z.boolean().default(false),
  /**
   * Log in to both sides of every row before anything is written (as the server test does, a few at
   * a time per host); a row whose login fails is a problem of that row. @defaultValue false
   */
  verifyLogins: z.boolean().default(false),
  /**
   * Rows whose owner is asked for the source password by a single-use link: those with an ownerEmail
   * and no source password always; with `returnLinks`, also those with neither (on a server without
   * admin credentials), and every row's link comes back in the answer's `ownerLinks`.
   */
  askOwners: askOwnersSchema.optional(),
});
export type ImportCsvInput = z.input<typeof importCsvInputSchema>;
