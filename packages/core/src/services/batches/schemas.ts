import { z } from "zod";
import { explicitEngineOptionsSchema } from "../../engines/options.ts";
import { cursorSchema, idSchema, plainText, poolSchema, tenantSchema } from "../validation.ts";

export const batchTagSchema = plainText(z.string().trim().min(1, "Give the batch a tag.").max(200)).regex(
  /^[^\s,]+(?: [^\s,]+)*$/,
  "A tag has no commas, line breaks or runs of spaces.",
);

export const createBatchInputSchema = z.object({
  tag: batchTagSchema,
  tenant: tenantSchema.optional(),
  pool: poolSchema.optional(),
  /** @defaultValue true */
  dryRun: z.boolean().default(true),
  /** Engine options every job of the batch starts with (over the settings'; a job's own win). */
  defaults: explicitEngineOptionsSchema.default({}),
});
export type CreateBatchInput = z.input<typeof createBatchInputSchema>;

export const listBatchesInputSchema = z.object({
  tenant: plainText(z.string().max(200)).optional(),
  cursor: cursorSchema.optional(),
  /** @defaultValue 50 */
  limit: z.number().int().min(1).max(500).default(50),
});

export const batchIdInputSchema = z.object({ id: idSchema });

export const updateBatchInputSchema = z.object({
  id: idSchema,
  /** The batch's engine options, replacing the ones it had; jobs not started yet and reruns take them. */
  options: explicitEngineOptionsSchema,
});
