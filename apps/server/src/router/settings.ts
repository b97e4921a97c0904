import { getSettings, settingsPatchSchema, updateSettings } from "@imapferry/core";
import { protectedProcedure, protectedRawInputProcedure, router } from "../trpc/init.ts";
import { jsonPlain } from "../trpc/json-plain.ts";

export const settingsRouter = router({
  get: protectedProcedure.query(async function getSettingsProcedure({ ctx }) {
    return jsonPlain(await getSettings(ctx.deps.ctx));
  }),

  /** Changes only the keys sent; bad input changes nothing. */
  update: protectedRawInputProcedure
    .input(settingsPatchSchema)
    .mutation(async function updateSettingsProcedure({ ctx }) {
      return jsonPlain(await updateSettings(ctx.deps.ctx, ctx.rawInput));
    }),
});
