import type { Accessor, Resource } from "solid-js";
import { createEffect, createMemo, createResource, createSignal, on, onCleanup } from "solid-js";
import { createStore, reconcile } from "solid-js/store";
import { api } from "../../api/client.ts";
import type { JobItem, JobList } from "../../api/types.ts";
import { setQuery } from "../../router.tsx";
import { noticeSessionLoss } from "../../session.ts";
import type { JobStatus } from "./job-statuses.ts";
import type { LiveJobEvent } from "./subscribe-job-events.ts";
import { subscribeJobEvents } from "./subscribe-job-events.ts";

const PAGE_SIZE = 25;

/** What the list shows: the URL's filters and the cursor of the page. */
export interface JobListFilters {
  status: JobStatus | null;
  batchId: number | null;
  search: string;
  cursor: string;
  sort: JobSort;
}

/** The column the list is ordered by and which way; newest first by default. */
export interface JobSort {
  key: "created" | "finished" | "status" | "name";
  direction: "asc" | "desc";
}

export interface LiveJobList {
  /** The rows of the current page, patched in place by live progress. */
  rows: { items: JobItem[]; nextCursor: string | null };
  /** The last load (loading / error state). */
  list: Resource<JobList>;
  refetch: () => void;
  /** 1 for the first page. */
  page: Accessor<number>;
  hasPrevious: Accessor<boolean>;
  nextPage: () => void;
  previousPage: () => void;
}

/**
 * The jobs list's data: loads a page for the filters, keeps it live (progress patches rows in place;
 * status changes refresh the page, debounced) and pages by cursor. `onRefresh` runs with each live
 * refresh, for what else the page shows of the filtered batch.
 */
export function createLiveJobList(
  filters: Accessor<JobListFilters>,
  options: { onRefresh?: () => void } = {},
): LiveJobList {
  const current = createMemo(filters, undefined, {
    equals: (a, b) =>
      a.status === b.status &&
      a.batchId === b.batchId &&
      a.search === b.search &&
      a.cursor === b.cursor &&
      a.sort.key === b.sort.key &&
      a.sort.direction === b.sort.direction,
  });

  const [rows, setRows] = createStore<{ items: JobItem[]; nextCursor: string | null }>({
    items: [],
    nextCursor: null,
  });
  const [list, { refetch }] = createResource(current, async function loadJobs(f) {
    try {
      const result = await api.jobs.list.query({
        status: f.status ? [f.status] : undefined,
        batchId: f.batchId ?? undefined,
        q: f.search || undefined,
        cursor: f.cursor || undefined,
        sort: f.sort.key,
        direction: f.sort.direction,
        limit: PAGE_SIZE,
      });
      setRows(reconcile({ items: result.items, nextCursor: result.nextCursor }, { key: "id" }));
      return result;
    } catch (e: unknown) {
      noticeSessionLoss(e);
      throw e;
    }
  });

  // Live updates: progress patches the row in place; a status change refreshes the page once,
  // debounced, so a burst of events costs one query. Progress of jobs on other pages costs nothing:
  // a job not shown triggers a refresh only when its status is new to us (created, started, ended).
  let refreshTimer: number | undefined;
  function scheduleRefresh(): void {
    window.clearTimeout(refreshTimer);
    refreshTimer = window.setTimeout(() => {
      void refetch();
      options.onRefresh?.();
    }, 250);
  }
  const statusOfUnshown = new Map<number, string>();
  function handleJobEvent(event: LiveJobEvent): void {
    const index = rows.items.findIndex((j) => j.id === event.jobId);
    if (index === -1) {
      if (statusOfUnshown.get(event.jobId) !== event.status) {
        statusOfUnshown.set(event.jobId, event.status);
        scheduleRefresh();
      }
      return;
    }
    const shown = rows.items[index];
    if (event.progress) setRows("items", index, "progress", event.progress);
    if (shown && event.status !== shown.status) scheduleRefresh();
  }
  // One stream for the list, narrowed to the batch when the list is (re-opened when that changes).
  let stopEvents: () => void = () => undefined;
  createEffect(
    on(
      () => current().batchId,
      (id) => {
        stopEvents();
        statusOfUnshown.clear();
        stopEvents = subscribeJobEvents({
          ...(id === null ? {} : { batchId: id }),
          onEvent: handleJobEvent,
          onResync: scheduleRefresh,
        });
      },
    ),
  );
  onCleanup(() => {
    stopEvents();
    window.clearTimeout(refreshTimer);
  });

  // The API pages by cursor (stable under inserts); the cursors of earlier pages are remembered here
  // so "Previous" works, and a reload simply starts again from that page.
  const [cursorStack, setCursorStack] = createSignal<string[]>([]);
  function nextPage(): void {
    if (!rows.nextCursor) return;
    setCursorStack([...cursorStack(), current().cursor]);
    setQuery({ cursor: rows.nextCursor });
  }
  function previousPage(): void {
    const stack = cursorStack();
    setCursorStack(stack.slice(0, -1));
    setQuery({ cursor: stack[stack.length - 1] || null });
  }
  // A new filter starts from the first page. Keyed by value: moving to another page changes the
  // location too, and must keep the stack.
  const filterKey = createMemo(() => JSON.stringify([current().status, current().batchId, current().search]));
  createEffect(on(filterKey, () => setCursorStack([]), { defer: true }));

  return {
    rows,
    list,
    refetch: () => void refetch(),
    page: () => cursorStack().length + 1,
    hasPrevious: () => current().cursor !== "",
    nextPage,
    previousPage,
  };
}
