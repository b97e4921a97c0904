import { sql } from "kysely";
import type { ServiceContext } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import { problemsFromZod } from "../validation.ts";
import { SETTINGS_DEFAULTS, type Settings, settingsPatchSchema, settingsSchema } from "./schemas.ts";

const SETTING_KEYS = Object.keys(settingsSchema.shape) as (keyof Settings)[];

/** Every setting, stored values over defaults. */
export async function getSettings(ctx: Pick<ServiceContext, "db">): Promise<Settings> {
  const rows = await ctx.db
    .selectFrom("settings")
    .select(["key", "value"])
    .where("key", "in", SETTING_KEYS)
    .execute();
  const merged: Record<string, unknown> = { ...SETTINGS_DEFAULTS };
  for (const row of rows) {
    const field = settingsSchema.shape[row.key as keyof Settings];
    const parsed = field?.safeParse(row.value);
    if (parsed?.success) merged[row.key] = parsed.data;
  }
  return merged as Settings;
}

/** Validates a partial update, stores the keys it names and returns every setting. Bad input changes nothing. */
export async function updateSettings(ctx: Pick<ServiceContext, "db">, patch: unknown): Promise<Settings> {
  const parsed = settingsPatchSchema.strict().safeParse(patch);
  if (!parsed.success) {
    throw new ImapferryError(
      "BAD_INPUT",
      "Some settings are not valid; nothing was changed.",
      problemsFromZod(parsed.error),
    );
  }
  // Only keys the caller named: partial() keeps defaults out, so an absent key stays as stored.
  const entries = Object.entries(parsed.data).filter(([key]) => Object.hasOwn(patch as object, key));
  if (entries.length > 0) {
    await ctx.db
      .insertInto("settings")
      .values(
        entries.map(([key, value]) => ({ key, value: JSON.stringify(value), updated_at: sql<Date>`now()` })),
      )
      .onConflict((oc) =>
        oc
          .column("key")
          .doUpdateSet({ value: (eb) => eb.ref("excluded.value"), updated_at: sql<Date>`now()` }),
      )
      .execute();
  }
  return getSettings(ctx);
}
