import type { Database, OptionOrigin } from "@imapferry/db";
import { type Kysely, sql } from "kysely";
import { layerOptions, ownOptions } from "../../engines/option-layers.ts";
import { engineOptionsSchema } from "../../engines/options.ts";
import { getSettings } from "../settings/settings.ts";

/** Options a caller forces on top of every level (a plan's pass), and options it drops. */
export interface OptionOverrides {
  setOptions?: Record<string, unknown>;
  unsetOptions?: readonly string[];
}

/**
 * Works out again the options of these jobs of batches from their levels as they are now: each job's
 * own options (set on it or in its row) over its batch's current options over the settings' current
 * defaults, then `overrides`. For runs about to start (a rerun, a queued job after its batch's options
 * changed). A job whose levels no longer combine (its own minAgeDays above the batch's new maxAgeDays)
 * keeps the options it had, rather than running with options nobody chose.
 */
export async function relayerOptions(
  trx: Kysely<Database>,
  jobIds: readonly number[],
  overrides: OptionOverrides = {},
): Promise<void> {
  if (jobIds.length === 0) return;
  const settings = await getSettings({ db: trx });
  const jobs = await trx
    .selectFrom("jobs")
    .innerJoin("batches", "batches.id", "jobs.batch_id")
    .select(["jobs.id", "jobs.options", "jobs.option_origins", "batches.defaults"])
    .where("jobs.id", "in", [...jobIds])
    .execute();
  const updates: { id: number; options: Record<string, unknown>; origins: Record<string, OptionOrigin> }[] =
    [];
  for (const job of jobs) {
    const origins = job.option_origins ?? {};
    const layered = layerOptions({
      settings: settings.defaultEngineOptions,
      batch: job.defaults ?? {},
      own: ownOptions(job.options, origins),
      ownOrigin: Object.values(origins).includes("row") ? "row" : "job",
    });
    for (const key of overrides.unsetOptions ?? []) {
      delete layered.merged[key];
      delete layered.origins[key];
    }
    for (const [key, value] of Object.entries(overrides.setOptions ?? {})) {
      layered.merged[key] = value;
      layered.origins[key] = "plan";
    }
    const parsed = engineOptionsSchema.safeParse(layered.merged);
    if (parsed.success) updates.push({ id: job.id, options: parsed.data, origins: layered.origins });
  }
  if (updates.length === 0) return;
  await sql`
    update jobs set options = u.options::jsonb, option_origins = u.origins::jsonb
    from unnest(${sql.val(updates.map((u) => u.id))}::int[],
                ${sql.val(updates.map((u) => JSON.stringify(u.options)))}::text[],
                ${sql.val(updates.map((u) => JSON.stringify(u.origins)))}::text[]) as u(id, options, origins)
    where jobs.id = u.id`.execute(trx);
}
