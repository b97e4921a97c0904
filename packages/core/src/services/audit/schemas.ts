import { z } from "zod";
import { idSchema, plainText } from "../validation.ts";

export const listAuditEventsInputSchema = z.object({
  /** Only this procedure ("jobs.cancel"), or a group of them ("jobs."). */
  action: plainText(z.string().trim().min(1).max(100)).optional(),
  /** Only changes by this user. */
  userId: idSchema.optional(),
  /** Only changes made with this API token. */
  tokenId: idSchema.optional(),
  /** Only changes to this tenant's jobs and batches. */
  tenant: plainText(z.string().trim().min(1).max(200)).optional(),
  /** Only those that succeeded ("ok") or were refused with this code ("FORBIDDEN" …). */
  outcome: plainText(z.string().trim().min(1).max(40)).optional(),
  /** From this moment on (ISO 8601). */
  since: z.iso.datetime({ offset: true }).optional(),
  /** Before this moment (ISO 8601). */
  until: z.iso.datetime({ offset: true }).optional(),
  /** The previous page's `nextCursor`. */
  cursor: z
    .string()
    .regex(/^\d{1,18}$/, "A cursor is the nextCursor of the previous page.")
    .optional(),
  /** @defaultValue 100 */
  limit: z.number().int().min(1).max(1000).default(100),
});
export type ListAuditEventsInput = z.input<typeof listAuditEventsInputSchema>;
