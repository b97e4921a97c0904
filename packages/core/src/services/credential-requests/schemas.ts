import { z } from "zod";
import { idSchema } from "../validation.ts";

/** A link lives a week unless the caller says otherwise. */
export const DEFAULT_LINK_HOURS = 7 * 24;
/** Shorter would expire before a mailbox owner reads their email; longer keeps a live key around. */
export const MIN_LINK_HOURS = 1;
export const MAX_LINK_HOURS = 30 * 24;

export const ownerEmailSchema = z
  .email("The owner's email must be an email address, such as alice@example.com.")
  .max(320, "An email address has at most 320 characters.");

const expiresInHoursSchema = z
  .number("The link's lifetime is a number of hours.")
  .int("The link's lifetime is a whole number of hours.")
  .min(MIN_LINK_HOURS, `A link lives at least ${MIN_LINK_HOURS} hour.`)
  .max(MAX_LINK_HOURS, `A link lives at most ${MAX_LINK_HOURS / 24} days (${MAX_LINK_HOURS} hours).`);

/**
 * jobs.create's `askOwner`: instead of the source password, the mailbox's owner is asked for it through
 * a single-use link, emailed to `email` and/or returned in the answer (`returnLink`).
 */
export const askOwnerSchema = z
  .object({
    /** Where the link (and a reminder at half its life) is emailed. */
    email: ownerEmailSchema.optional(),
    /** Return the link's URL in the answer, for the calling panel to pass on. @defaultValue false */
    returnLink: z.boolean().default(false),
    /** @defaultValue 168 (7 days); between 1 and 720 */
    expiresInHours: expiresInHoursSchema.default(DEFAULT_LINK_HOURS),
  })
  .refine((v) => v.email !== undefined || v.returnLink, {
    message: "Give the owner's email, or set returnLink to get the link back, or both.",
    path: ["email"],
  });
export type AskOwnerInput = z.input<typeof askOwnerSchema>;
export type AskOwner = z.output<typeof askOwnerSchema>;

/**
 * batches.import's `askOwners`: rows with an ownerEmail and no source password wait for their owner;
 * with `returnLinks`, so do rows without either, and every row's link comes back in the answer.
 */
export const askOwnersSchema = z.object({
  /** @defaultValue false */
  returnLinks: z.boolean().default(false),
  /** @defaultValue 168 (7 days); between 1 and 720 */
  expiresInHours: expiresInHoursSchema.default(DEFAULT_LINK_HOURS),
});
export type AskOwnersInput = z.input<typeof askOwnersSchema>;

/** jobs.sendOwnerLink's fields (the REST route's body takes them without `id`). */
export const sendOwnerLinkFieldsSchema = z.object({
  id: idSchema,
  /** Email it to this address (and remember it); absent: to the address the last link went to. */
  email: ownerEmailSchema.optional(),
  /** Email the link. @defaultValue true */
  sendEmail: z.boolean().default(true),
  /** Return the link's URL in the answer ("Copy link"). @defaultValue false */
  returnLink: z.boolean().default(false),
  /** @defaultValue 168 (7 days) */
  expiresInHours: expiresInHoursSchema.default(DEFAULT_LINK_HOURS),
});

/** jobs.sendOwnerLink: a new link for a job awaiting its source password (the previous one dies). */
export const sendOwnerLinkInputSchema = sendOwnerLinkFieldsSchema.refine((v) => v.sendEmail || v.returnLink, {
  message: "A new link must be emailed (sendEmail) or returned (returnLink); otherwise nobody could use it.",
  path: ["sendEmail"],
});
export type SendOwnerLinkInput = z.input<typeof sendOwnerLinkInputSchema>;
