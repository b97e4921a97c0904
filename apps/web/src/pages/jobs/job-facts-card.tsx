import type { JSX } from "solid-js";
import { For, Show } from "solid-js";
import type { JobItem } from "../../api/types.ts";
import { formatBytes } from "../../format.ts";
import { formatByteSize } from "../../forms/byte-size.ts";
import { Link } from "../../router.tsx";
import { DateTime } from "../../ui/date-time.tsx";

/** Where an option came from, as the job page says it. */
const ORIGIN_LABELS: Record<string, string> = {
  job: "this job",
  row: "CSV row",
  batch: "batch",
  settings: "settings",
  plan: "plan",
};

/** The engine options that differ from their defaults, as "name: value" labels with their key. */
function setOptions(options: Record<string, unknown> | null | undefined): { key: string; label: string }[] {
  return Object.entries(options ?? {})
    .filter(
      ([, value]) =>
        value !== false &&
        value !== null &&
        value !== undefined &&
        !(Array.isArray(value) && value.length === 0),
    )
    .map(([key, value]) => ({ key, label: optionLabel(key, value) }));
}

/** "maxAgeDays: 30", "automap", "folders: INBOX, Sent": an option as the job page and the import preview show it. */
export function optionLabel(key: string, value: unknown): string {
  if (value === true) return key;
  if (Array.isArray(value))
    return `${key}: ${value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ")}`;
  // Byte counts read as sizes, as the option editor writes them.
  if (typeof value === "number" && /Bytes(PerSecond)?$/.test(key))
    return `${key}: ${formatByteSize(value, key.endsWith("PerSecond"))}`;
  return `${key}: ${String(value)}`;
}

/** When the job ran, where, which attempt, and with which options. */
export function JobFactsCard(props: {
  job: JobItem;
  /** Bytes of log the page has received: newer than the job row while the log grows. */
  logBytes: number;
}): JSX.Element {
  const j = () => props.job;
  return (
    <div class="card">
      <div class="card-head">
        <h2>Details</h2>
      </div>
      <div class="card-body">
        <dl class="facts">
          <dt>Created</dt>
          <dd>
            <DateTime value={j().createdAt} />
          </dd>
          <dt>Started</dt>
          <dd>
            <DateTime value={j().startedAt} />
          </dd>
          <dt>Finished</dt>
          <dd>
            <DateTime value={j().finishedAt} />
          </dd>
          <dt>Worker</dt>
          <dd class="mono">{j().workerId ?? "—"}</dd>
          <dt>Attempt</dt>
          <dd>{j().attempt}</dd>
          <Show when={j().autoRetries > 0}>
            <dt>Automatic retries</dt>
            <dd data-auto-retries>{j().autoRetries}</dd>
          </Show>
          <Show when={j().supersededBy}>
            {(by) => (
              <>
                <dt>Replaced</dt>
                <dd data-superseded-by>
                  superseded by <Link href={`/jobs/${by()}`}>#{by()}</Link>
                </dd>
              </>
            )}
          </Show>
          <Show when={j().rerunOf}>
            <dt>Rerun of</dt>
            <dd>
              <Link href={`/jobs/${j().rerunOf}`}>#{j().rerunOf}</Link>
            </dd>
          </Show>
          <dt>Log size</dt>
          <dd data-log-size>{formatBytes(Math.max(j().logBytes, props.logBytes))}</dd>
          <Show when={setOptions(j().options).length > 0}>
            <dt>Options</dt>
            <dd class="option-list">
              <For each={setOptions(j().options)}>
                {(option) => {
                  const origin = () => j().optionOrigins?.[option.key];
                  return (
                    <span class="tag" data-option={option.key} data-origin={origin() ?? "default"}>
                      {option.label}
                      <span class="muted"> · {origin() ? ORIGIN_LABELS[origin() ?? ""] : "default"}</span>
                    </span>
                  );
                }}
              </For>
            </dd>
          </Show>
        </dl>
      </div>
    </div>
  );
}
