import { z } from "zod";
import { idSchema } from "../validation.ts";

/** The longest interval a plan takes (a pass a month is the slowest schedule anyone runs). */
export const MAX_PLAN_INTERVAL_SECONDS = 30 * 86_400;

export const setPlanInputSchema = z.object({
  batchId: idSchema,
  /** Seconds between the starts of two delta passes; at least the planMinIntervalSeconds setting. */
  intervalSeconds: z
    .number()
    .int("The interval is a whole number of seconds.")
    .min(1, "The interval is at least 1 second.")
    .max(MAX_PLAN_INTERVAL_SECONDS, "The interval is at most 30 days."),
  /** When the final pass starts on its own (ISO 8601 with an offset); without it, only "Cut over" ends the plan. */
  cutoverAt: z.iso
    .datetime({
      offset: true,
      message: "Give the cutover time as ISO 8601 with an offset, e.g. 2027-01-15T22:00:00Z.",
    })
    .nullish(),
  /**
   * Pre-stage: the batch's runs that have not started yet copy only mail older than this many days
   * (the bulk of a mailbox, days ahead); every delta pass then copies everything.
   */
  prestageMinAgeDays: z
    .number()
    .int("prestageMinAgeDays is a whole number of days.")
    .min(1, "prestageMinAgeDays is at least 1.")
    .max(100_000, "prestageMinAgeDays is at most 100000.")
    .nullish(),
  /** The final pass deletes destination messages that are not on the source. @defaultValue false */
  deleteOnDestinationAtCutover: z.boolean().default(false),
});
export type SetPlanInput = z.input<typeof setPlanInputSchema>;

export const planBatchInputSchema = z.object({ batchId: idSchema });
