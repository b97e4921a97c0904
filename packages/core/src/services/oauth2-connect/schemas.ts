import { z } from "zod";
import { idSchema, loginSchema } from "../validation.ts";

export const startConnectionInputSchema = z.object({
  /** The server whose OAuth client the mailbox owner signs in to. */
  serverId: idSchema,
  /** The mailbox, to preselect the account at the provider's sign-in. */
  loginHint: loginSchema.optional(),
});

export const connectionIdInputSchema = z.object({ id: idSchema });
