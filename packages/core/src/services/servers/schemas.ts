import { SERVER_SECURITIES } from "@imapferry/db";
import { z } from "zod";
import { idSchema, plainText } from "../validation.ts";

const hostSchema = z
  .string()
  .trim()
  .min(1, "Enter the server's host name or IP address.")
  .max(253)
  .regex(
    /^[A-Za-z0-9.:[\]_-]+$/,
    "A host name has letters, digits, dots, dashes (or is an IP address), and no spaces.",
  );

export const serverInputSchema = z.object({
  name: plainText(z.string().trim().min(1, "Give the server a name.").max(200)),
  host: hostSchema,
  port: z.number().int().min(1).max(65535).default(993),
  security: z.enum(SERVER_SECURITIES).default("tls"),
  /** Accept a self-signed or otherwise untrusted certificate. @defaultValue false */
  acceptSelfSigned: z.boolean().default(false),
  /** @defaultValue null (the global default from settings) */
  sourceHostLimit: z.number().int().min(1).max(1000).nullable().default(null),
});
export type ServerInput = z.input<typeof serverInputSchema>;

export const createServerInputSchema = serverInputSchema;
export const updateServerInputSchema = serverInputSchema.partial().extend({ id: idSchema });
export type UpdateServerInput = z.input<typeof updateServerInputSchema>;
export const serverIdInputSchema = z.object({ id: idSchema });
