import type { JSX } from "solid-js";
import { For, onCleanup, Show } from "solid-js";
import type { BatchItem } from "../../api/types.ts";
import { setQuery } from "../../router.tsx";
import { statusLabel } from "../../ui/status-badge.tsx";
import type { JobStatus } from "./job-statuses.ts";
import { JOB_STATUSES } from "./job-statuses.ts";

/**
 * The list's filters: status chips, the batch and a search box. They write the URL (the list reads
 * its filters from there), so a filtered list can be linked and survives a reload.
 */
export function JobsToolbar(props: {
  status: JobStatus | null;
  batchId: number | null;
  search: string;
  batches: BatchItem[];
  /** The filtered batch when it is not among `batches` (an old one, past the list's limit). */
  batchTag: string;
}): JSX.Element {
  let searchTimer: number | undefined;
  function handleSearch(value: string): void {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(() => setQuery({ q: value.trim() || null, cursor: null }), 250);
  }
  onCleanup(() => window.clearTimeout(searchTimer));

  return (
    <div class="toolbar">
      <fieldset class="chips">
        <legend class="sr-only">Filter by status</legend>
        <button
          type="button"
          class="chip"
          aria-pressed={props.status === null}
          onClick={() => setQuery({ status: null, cursor: null })}
        >
          All
        </button>
        <For each={JOB_STATUSES}>
          {(s) => (
            <button
              type="button"
              class="chip"
              aria-pressed={props.status === s}
              onClick={() => setQuery({ status: props.status === s ? null : s, cursor: null })}
            >
              {statusLabel(s)}
            </button>
          )}
        </For>
      </fieldset>
      <div class="spacer" />
      <select
        class="select"
        aria-label="Filter by batch"
        style={{ width: "auto", "min-width": "150px" }}
        value={props.batchId === null ? "" : String(props.batchId)}
        onChange={(e) => setQuery({ batch: e.currentTarget.value || null, cursor: null })}
      >
        <option value="">All batches</option>
        {/* Each option says whether it is the filter: the batches arrive after the select is made, and a
            value set on a select before its option exists is lost. */}
        <Show when={props.batchId !== null && !props.batches.some((b) => b.id === props.batchId)}>
          <option value={String(props.batchId)} selected>
            {props.batchTag}
          </option>
        </Show>
        <For each={props.batches}>
          {(b) => (
            <option value={String(b.id)} selected={b.id === props.batchId}>
              {b.tag}
            </option>
          )}
        </For>
      </select>
      <input
        class="input search"
        type="search"
        placeholder="Search name or login…"
        aria-label="Search jobs"
        value={props.search}
        onInput={(e) => handleSearch(e.currentTarget.value)}
      />
    </div>
  );
}
