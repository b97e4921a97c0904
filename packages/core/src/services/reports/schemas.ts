import { z } from "zod";
import { idSchema } from "../validation.ts";

export const reportInputSchema = z.object({ id: idSchema });
export type ReportInput = z.input<typeof reportInputSchema>;
