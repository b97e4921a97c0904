import type { OptionOrigin } from "@imapferry/db";

/** The levels a job's engine options are set at, lowest first; each wins over those before it. */
export interface OptionLayers {
  /** The installation's defaults (settings.defaultEngineOptions). */
  settings?: Record<string, unknown>;
  /** The job's batch's options. */
  batch?: Record<string, unknown>;
  /** The job's own options: set on the job ("job") or in its CSV row ("row"). */
  own?: Record<string, unknown>;
  ownOrigin?: "job" | "row";
}

/**
 * The options a job runs with before built-in defaults are filled in (row > batch > settings), and
 * where each came from, for the job page. Options no level sets are absent from both.
 */
export function layerOptions(layers: OptionLayers): {
  merged: Record<string, unknown>;
  origins: Record<string, OptionOrigin>;
} {
  const merged: Record<string, unknown> = {};
  const origins: Record<string, OptionOrigin> = {};
  const levels: [Record<string, unknown> | undefined, OptionOrigin][] = [
    [layers.settings, "settings"],
    [layers.batch, "batch"],
    [layers.own, layers.ownOrigin ?? "job"],
  ];
  for (const [values, origin] of levels) {
    for (const [key, value] of Object.entries(values ?? {})) {
      if (value === undefined) continue;
      merged[key] = value;
      origins[key] = origin;
    }
  }
  return { merged, origins };
}

/** A job's own options (set on it or in its row), given its options and their origins. */
export function ownOptions(
  options: Record<string, unknown>,
  origins: Record<string, OptionOrigin>,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(options).filter(([key]) => origins[key] === "job" || origins[key] === "row"),
  );
}
