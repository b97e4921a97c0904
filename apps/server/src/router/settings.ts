import { assertAllowed, getSettings, settingsPatchSchema, updateSettings } from "@imapferry/core";
import { protectedProcedure, protectedRawInputProcedure, router } from "../trpc/init.ts";
import { jsonPlain } from "../trpc/json-plain.ts";

export const settingsRouter = router({
  get: protectedProcedure.query(async function getSettingsProcedure({ ctx }) {
    assertAllowed(ctx.principal, "see-installation");
    return jsonPlain(await getSettings(ctx.deps.ctx));
  }),

  /** Changes only the keys sent; bad input changes nothing. */
  update: protectedRawInputProcedure
    .input(settingsPatchSchema)
    .mutation(async function updateSettingsProcedure({ ctx }) {
      assertAllowed(ctx.principal, "change-installation");
      return jsonPlain(await updateSettings(ctx.deps.ctx, ctx.rawInput));
    }),
});
