import { API_TOKEN_ROLES } from "@imapferry/db";
import { z } from "zod";
import { plainText, tenantSchema } from "../validation.ts";

export const usernameSchema = z
  .string()
  .trim()
  .min(1, "A user name is required.")
  .max(100, "A user name has at most 100 characters.")
  .regex(/^[A-Za-z0-9._@-]+$/, "A user name may contain letters, digits and . _ @ - only.");

export const newPasswordSchema = z
  .string()
  .min(12, "A password needs at least 12 characters.")
  .max(1024, "A password has at most 1024 characters.");

export const loginInputSchema = z.object({
  username: plainText(z.string().trim().min(1, "Enter your user name.").max(100)),
  password: z.string().min(1, "Enter your password.").max(1024),
});
export type LoginInput = z.infer<typeof loginInputSchema>;

export const createApiTokenInputSchema = z.object({
  name: plainText(
    z.string().trim().min(1, "Give the token a name, e.g. the system that will use it.").max(100),
  ),
  /** Days until the token stops working by itself. @defaultValue none: until revoked */
  expiresInDays: z
    .number()
    .int("Give the expiry in whole days.")
    .min(1, "A token expires after at least 1 day.")
    .max(3650, "A token expires after at most 3650 days (10 years); leave it empty for no expiry.")
    .optional(),
  /**
   * `read` looks only; `operate` also creates, cancels and reruns jobs and batches; `admin` also
   * changes servers, settings and tokens. @defaultValue "admin" (what every token could do before roles)
   */
  role: z.enum(API_TOKEN_ROLES).default("admin"),
  /** Binds the token to one tenant: it sees and changes only that tenant's jobs and batches. @defaultValue none: every tenant */
  tenant: tenantSchema.optional(),
});
export type CreateApiTokenInput = z.input<typeof createApiTokenInputSchema>;
