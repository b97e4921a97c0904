import type { JSX } from "solid-js";
import { createSignal, onCleanup, Show } from "solid-js";
import type { JobItem } from "../../api/types.ts";
import { formatBytes, formatCount, formatElapsed } from "../../format.ts";
import { ACTIVE_STATUSES } from "./job-statuses.ts";

function statNumber(stats: Record<string, unknown> | null, key: string): number | null {
  const value = stats?.[key];
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** The run's statistics as the engine reported them, or its live counters until it does. */
export function JobStatsCard(props: { job: JobItem }): JSX.Element {
  const stats = () => props.job.stats;
  // While it runs, the duration counts up on its own (a tick a second); once it ends, the engine's
  // own "Transfer time" is the figure, as the log says it.
  const [now, setNow] = createSignal(Date.now());
  const ticker = window.setInterval(() => {
    if (props.job.status === "running") setNow(Date.now());
  }, 1000);
  onCleanup(() => window.clearInterval(ticker));
  const duration = () => {
    const fromStats = statNumber(stats(), "transferTimeSeconds");
    if (fromStats !== null) return fromStats;
    if (!props.job.startedAt) return null;
    const started = new Date(props.job.startedAt).getTime();
    if (props.job.finishedAt) return (new Date(props.job.finishedAt).getTime() - started) / 1000;
    return props.job.status === "running" ? Math.max(0, (now() - started) / 1000) : null;
  };
  const transferred = () => statNumber(stats(), "messagesTransferred") ?? props.job.progress?.copied ?? null;
  return (
    <div class="card">
      <div class="card-head">
        <h2>Statistics</h2>
        <Show when={!stats()}>
          <span class="muted small">
            {ACTIVE_STATUSES.has(props.job.status) ? "when it ends" : "none reported"}
          </span>
        </Show>
      </div>
      <div class="stat-grid" data-stats>
        <Stat label={props.job.dryRun ? "Would copy" : "Transferred"} name="transferred">
          {formatCount(
            props.job.dryRun
              ? (statNumber(stats(), "messagesWouldTransfer") ?? transferred())
              : transferred(),
          )}
        </Stat>
        <Stat label="Skipped" name="skipped">
          {formatCount(statNumber(stats(), "messagesSkipped") ?? props.job.progress?.skipped ?? null)}
        </Stat>
        <Stat label="Errors" name="errors">
          {formatCount(statNumber(stats(), "errors") ?? props.job.progress?.errors ?? null)}
        </Stat>
        <Stat label="Bytes" name="bytes">
          {formatBytes(statNumber(stats(), "bytesTransferred") ?? props.job.progress?.bytesCopied ?? null)}
        </Stat>
        <Stat label="Duration" name="duration">
          {formatElapsed(duration())}
        </Stat>
      </div>
    </div>
  );
}

/** One figure of the statistics card; `name` is its data-stat hook (the browser tests read it). */
function Stat(props: { label: string; name: string; children: JSX.Element }): JSX.Element {
  return (
    <div class="stat">
      <div class="label">{props.label}</div>
      <div class="value" data-stat={props.name}>
        {props.children}
      </div>
    </div>
  );
}
