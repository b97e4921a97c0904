import { z } from "zod";

/**
 * How to reach the SMTP server. Either `url` (`smtp://user:pass@host:587`, `smtps://…:465`) or `host`
 * with the other fields; when both are given the URL wins (nodemailer merges it over the fields).
 * Structurally the same as the server config's `SmtpSettings`, so it is passed through unchanged.
 */
export const smtpConfigSchema = z
  .object({
    url: z
      .string()
      .refine((v) => /^smtps?:\/\//i.test(v), { message: "SMTP_URL must start with smtp:// or smtps://" })
      .optional(),
    host: z.string().min(1).optional(),
    /** @defaultValue 587, or 465 when `secure` */
    port: z.number().int().min(1).max(65535).optional(),
    user: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /** Implicit TLS from the first byte (port 465). Otherwise STARTTLS is used when the server offers it. */
    secure: z.boolean().optional(),
  })
  .refine((v) => v.url !== undefined || v.host !== undefined, { message: "Set SMTP_URL or SMTP_HOST" });

export type SmtpConfig = z.infer<typeof smtpConfigSchema>;

export const recordWatchInputSchema = z.object({
  jobIds: z.array(z.number().int().positive()).max(10_000).optional(),
  /** Someone is looking at these batches: one row each, however many jobs they have. */
  batchIds: z.array(z.number().int().positive()).max(1000).optional(),
});
export type RecordWatchInput = z.infer<typeof recordWatchInputSchema>;
