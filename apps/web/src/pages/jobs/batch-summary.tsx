import type { JSX } from "solid-js";
import { For, Show } from "solid-js";
import type { BatchItem } from "../../api/types.ts";
import { StatusBadge } from "../../ui/status-badge.tsx";
import { JOB_STATUSES } from "./job-statuses.ts";

/** The batch the list is filtered to: its tag and how many of its jobs are in each state, live. */
export function BatchSummary(props: { batch: BatchItem; onClear: () => void }): JSX.Element {
  const shown = () => JOB_STATUSES.filter((s) => (props.batch.counts[s] ?? 0) > 0);
  const finished = () =>
    (props.batch.counts.done ?? 0) +
    (props.batch.counts.incomplete ?? 0) +
    (props.batch.counts.failed ?? 0) +
    (props.batch.counts.cancelled ?? 0);
  return (
    <div class="card batch-summary" data-batch-summary>
      <div class="batch-summary-main">
        <div class="muted small">Batch</div>
        <strong class="batch-tag">{props.batch.tag}</strong>
        <Show when={props.batch.dryRun}>
          <span class="tag tag-dry">dry run</span>
        </Show>
      </div>
      <div class="meter batch-meter">
        <div class="progress">
          <span style={{ width: `${props.batch.total ? (finished() / props.batch.total) * 100 : 0}%` }} />
        </div>
        <span class="small nowrap">
          {finished()} / {props.batch.total} finished
        </span>
      </div>
      <div class="row">
        <For each={shown()}>
          {(s) => (
            <span class="row" style={{ gap: "4px" }}>
              <StatusBadge status={s} /> <strong>{props.batch.counts[s]}</strong>
            </span>
          )}
        </For>
      </div>
      <a class="btn btn-sm" href={`/api/batches/${props.batch.id}/report.csv`} download="" data-batch-report>
        Report (CSV)
      </a>
      <button type="button" class="btn btn-sm btn-ghost" onClick={() => props.onClear()}>
        All jobs
      </button>
    </div>
  );
}
