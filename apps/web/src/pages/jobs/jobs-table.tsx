import type { JSX } from "solid-js";
import { Show } from "solid-js";
import type { JobItem } from "../../api/types.ts";
import { Link, setQuery } from "../../router.tsx";
import { DataTable } from "../../ui/data-table.tsx";
import { DateTime } from "../../ui/date-time.tsx";
import { StatusBadge } from "../../ui/status-badge.tsx";
import type { JobSort } from "./create-live-job-list.ts";
import { ownerLinkSentence } from "./owner-link-card.tsx";
import { ProgressCell } from "./progress-cell.tsx";

/** Statuses whose sentence says what went wrong: the list shows it under the job, on one line. */
const EXPLAINED = new Set(["failed", "incomplete", "interrupted", "waiting"]);

/** A column header that orders the list by its column; a second click turns the order around. */
function SortHeader(props: { label: string; column: JobSort["key"]; sort: JobSort }): JSX.Element {
  const active = () => props.sort.key === props.column;
  // Names read A to Z first; dates and statuses newest / most urgent first.
  const firstDirection = props.column === "name" ? "asc" : "desc";
  function toggle(): void {
    const direction = active() ? (props.sort.direction === "asc" ? "desc" : "asc") : firstDirection;
    const isDefault = props.column === "created" && direction === "desc";
    setQuery({ sort: isDefault ? null : `${direction === "desc" ? "-" : ""}${props.column}`, cursor: null });
  }
  return (
    <th aria-sort={active() ? (props.sort.direction === "asc" ? "ascending" : "descending") : "none"}>
      <button type="button" class="th-sort" data-sort={props.column} onClick={toggle}>
        {props.label}
        <span class="th-sort-mark" aria-hidden="true">
          {active() ? (props.sort.direction === "asc" ? "▲" : "▼") : ""}
        </span>
      </button>
    </th>
  );
}

/** One page of jobs, each row with its selection box; a row's batch tag filters the list to it. */
export function JobsTable(props: {
  rows: JobItem[];
  busy: boolean;
  selected: ReadonlySet<number>;
  onToggle: (id: number, on: boolean) => void;
  onToggleAll: (on: boolean) => void;
  batchTag: (id: number) => string;
  sort: JobSort;
}): JSX.Element {
  const allSelected = () => props.rows.length > 0 && props.rows.every((j) => props.selected.has(j.id));
  return (
    <DataTable
      label="Jobs"
      rows={props.rows}
      busy={props.busy}
      head={
        <>
          <th class="col-check">
            <input
              type="checkbox"
              aria-label="Select all jobs on this page"
              checked={allSelected()}
              onChange={(e) => props.onToggleAll(e.currentTarget.checked)}
            />
          </th>
          <SortHeader label="Job" column="name" sort={props.sort} />
          <SortHeader label="Status" column="status" sort={props.sort} />
          <th>Progress</th>
          <th>Batch</th>
          <SortHeader label="Created" column="created" sort={props.sort} />
          <SortHeader label="Finished" column="finished" sort={props.sort} />
        </>
      }
    >
      {(job) => (
        <tr data-job-id={job.id} data-status={job.status} data-selected={props.selected.has(job.id)}>
          <td class="col-check">
            <input
              type="checkbox"
              aria-label={`Select ${job.name || `job ${job.id}`}`}
              checked={props.selected.has(job.id)}
              onChange={(e) => props.onToggle(job.id, e.currentTarget.checked)}
            />
          </td>
          <td class="cell-main">
            <Link href={`/jobs/${job.id}`}>{job.name || `${job.sourceEmail}`}</Link>
            <div class="cell-sub" data-job-route>
              {job.sourceEmail}{" "}
              <span class="muted">({job.sourceServerName ?? `server ${job.sourceServerId}`})</span> →{" "}
              {job.destEmail}{" "}
              <span class="muted">({job.destServerName ?? `server ${job.destServerId}`})</span>
              <Show when={job.dryRun}>
                {" "}
                <span class="tag tag-dry">dry run</span>
              </Show>
            </div>
            <Show when={EXPLAINED.has(job.status) && job.errorMessage}>
              <div class="cell-error" data-job-error title={job.errorMessage ?? ""}>
                {job.errorMessage}
              </div>
            </Show>
            <Show when={ownerLinkSentence(job)}>
              {(sentence) => (
                <div class="cell-error" data-owner-link-sentence>
                  {sentence()}
                </div>
              )}
            </Show>
          </td>
          <td data-label="Status">
            <StatusBadge status={job.status} />
          </td>
          <td
            data-label="Progress"
            class={job.status !== "running" && !job.progress?.total && !job.stats ? "empty-cell" : ""}
          >
            <ProgressCell job={job} />
          </td>
          <td data-label="Batch" class={job.batchId === null ? "empty-cell" : ""}>
            <Show when={job.batchId !== null} fallback={<span class="muted">—</span>}>
              <button
                type="button"
                class="tag"
                title="Show this batch only"
                onClick={() => setQuery({ batch: job.batchId, cursor: null })}
              >
                {job.batchTag ?? props.batchTag(job.batchId ?? 0)}
              </button>
            </Show>
          </td>
          <td data-label="Created" class="nowrap muted">
            <DateTime value={job.createdAt} />
          </td>
          <td data-label="Finished" class={job.finishedAt ? "nowrap muted" : "nowrap muted empty-cell"}>
            <DateTime value={job.finishedAt} />
          </td>
        </tr>
      )}
    </DataTable>
  );
}
