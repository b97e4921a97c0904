import type { JSX } from "solid-js";
import { createEffect, createMemo, createResource, createSignal, on, Show } from "solid-js";
import { api } from "../../api/client.ts";
import { isNotFound } from "../../api/errors.ts";
import type { BatchItem } from "../../api/types.ts";
import { pluralize } from "../../format.ts";
import { setQuery, useLocation } from "../../router.tsx";
import { EmptyState, LoadStates, Spinner } from "../../ui/states.tsx";
import { NotFound } from "../not-found.tsx";
import { BatchPlanCard } from "./batch-plan.tsx";
import { BatchSummary } from "./batch-summary.tsx";
import { BulkBar } from "./bulk-bar.tsx";
import { CreateJobButtons } from "./create-job-buttons.tsx";
import type { JobListFilters } from "./create-live-job-list.ts";
import { createLiveJobList, type JobSort } from "./create-live-job-list.ts";
import { ImportModal } from "./import-modal.tsx";
import { JobFormModal } from "./job-form.tsx";
import type { JobStatus } from "./job-statuses.ts";
import { JobsTable } from "./jobs-table.tsx";
import { JobsToolbar } from "./jobs-toolbar.tsx";

const SORT_KEYS: JobSort["key"][] = ["created", "finished", "status", "name"];

/** `?sort=name` (ascending) or `?sort=-finished` (descending); newest first without one. */
function sortFromQuery(value: string | null): JobSort {
  const descending = value?.startsWith("-") ?? true;
  const key = (value ?? "").replace(/^-/, "") as JobSort["key"];
  if (!SORT_KEYS.includes(key)) return { key: "created", direction: "desc" };
  return { key, direction: descending ? "desc" : "asc" };
}

export function JobsPage(): JSX.Element {
  const location = useLocation();
  const filters = (): JobListFilters => {
    const query = location().query;
    const batch = query.get("batch");
    return {
      status: (query.get("status") as JobStatus | null) ?? null,
      batchId: batch ? Number(batch) : null,
      search: query.get("q") ?? "",
      cursor: query.get("cursor") ?? "",
      sort: sortFromQuery(query.get("sort")),
    };
  };
  const batchId = () => filters().batchId;

  // null: the batch does not exist; undefined: not loaded (or not reachable: the list says why).
  const [batch, { refetch: refetchBatch }] = createResource(batchId, async function loadBatch(id) {
    try {
      return await api.batches.get.query({ id });
    } catch (e: unknown) {
      return isNotFound(e) ? null : undefined;
    }
  });
  const [batches] = createResource(async function loadBatches(): Promise<BatchItem[]> {
    try {
      return (await api.batches.list.query({ limit: 200 })).items;
    } catch {
      return [];
    }
  });
  const jobs = createLiveJobList(filters, {
    onRefresh: () => {
      if (batchId() !== null) void refetchBatch();
    },
  });
  const { rows, list } = jobs;

  // Selection survives live refreshes but not a change of filter or page.
  const [selected, setSelected] = createSignal<Set<number>>(new Set());
  const filterKey = createMemo(() => JSON.stringify(filters()));
  createEffect(on(filterKey, () => setSelected(new Set<number>()), { defer: true }));
  createEffect(function dropVanishedSelections() {
    const ids = new Set(rows.items.map((j) => j.id));
    const current = selected();
    if ([...current].some((id) => !ids.has(id)))
      setSelected(new Set([...current].filter((id) => ids.has(id))));
  });
  function toggle(id: number, on: boolean): void {
    const next = new Set(selected());
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  }
  function toggleAll(on: boolean): void {
    setSelected(on ? new Set(rows.items.map((j) => j.id)) : new Set<number>());
  }

  const [showNew, setShowNew] = createSignal(false);
  const [showImport, setShowImport] = createSignal(false);

  const batchTag = (id: number) => batches()?.find((b) => b.id === id)?.tag ?? `#${id}`;
  const filtered = () => {
    const f = filters();
    return f.status !== null || f.batchId !== null || f.search !== "";
  };

  return (
    <div class="page">
      <div class="page-head">
        <div>
          <h1>Jobs</h1>
          <p class="sub">Every mailbox migration, live.</p>
        </div>
        <div class="page-actions">
          <CreateJobButtons onImport={() => setShowImport(true)} onNew={() => setShowNew(true)} />
        </div>
      </div>

      <Show when={batchId() !== null && batch()}>
        {(b) => (
          <>
            <BatchSummary
              batch={b()}
              onClear={() => setQuery({ batch: null, cursor: null })}
              onChanged={() => {
                void refetchBatch();
                void jobs.refetch();
              }}
            />
            <BatchPlanCard
              batch={b()}
              onChanged={() => {
                void refetchBatch();
                void jobs.refetch();
              }}
            />
          </>
        )}
      </Show>

      <Show
        when={!(batchId() !== null && batch() === null && !batch.loading)}
        fallback={
          <NotFound
            title={`Batch #${batchId()} does not exist`}
            text="It may have been deleted, or the address is mistyped."
            back={{ href: "/jobs", label: "Show all jobs" }}
          />
        }
      >
        <div class="card">
          <JobsToolbar
            status={filters().status}
            batchId={batchId()}
            search={filters().search}
            batches={batches() ?? []}
            batchTag={batch()?.tag ?? `#${batchId() ?? 0}`}
          />

          <LoadStates
            failed={list.error && rows.items.length === 0}
            error={list.error}
            errorTitle="Could not load the jobs"
            onRetry={jobs.refetch}
            loading={list.loading && !list.latest}
            loadingLabel="Loading jobs…"
            empty={rows.items.length === 0}
            emptyState={
              <Show
                when={filtered()}
                fallback={
                  <EmptyState
                    icon="inbox"
                    title="No migrations yet"
                    text="Create one job, or import a CSV with a row per mailbox. New jobs start as dry runs."
                    action={
                      <div class="row" style={{ "justify-content": "center" }}>
                        <CreateJobButtons
                          onImport={() => setShowImport(true)}
                          onNew={() => setShowNew(true)}
                        />
                      </div>
                    }
                  />
                }
              >
                <EmptyState
                  icon="search"
                  title="No job matches these filters"
                  action={
                    <button
                      type="button"
                      class="btn"
                      onClick={() => setQuery({ status: null, batch: null, q: null, cursor: null })}
                    >
                      Clear filters
                    </button>
                  }
                />
              </Show>
            }
            ready={rows.items.length > 0}
          >
            {() => (
              <>
                <JobsTable
                  rows={rows.items}
                  busy={list.loading}
                  selected={selected()}
                  onToggle={toggle}
                  onToggleAll={toggleAll}
                  batchTag={batchTag}
                  sort={filters().sort}
                />
                <div class="pager">
                  <span>
                    Page {jobs.page()} · {pluralize(rows.items.length, "job")}
                    <Show when={list.loading}>
                      {" "}
                      <Spinner label="Refreshing" />
                    </Show>
                  </span>
                  <div class="row">
                    <button
                      type="button"
                      class="btn btn-sm"
                      disabled={!jobs.hasPrevious()}
                      onClick={jobs.previousPage}
                    >
                      Previous
                    </button>
                    <button
                      type="button"
                      class="btn btn-sm"
                      disabled={!rows.nextCursor}
                      onClick={jobs.nextPage}
                    >
                      Next
                    </button>
                  </div>
                </div>
              </>
            )}
          </LoadStates>
        </div>
      </Show>

      <BulkBar selected={selected()} onClear={() => setSelected(new Set<number>())} onDone={jobs.refetch} />
      <Show when={showNew()}>
        <JobFormModal onClose={() => setShowNew(false)} />
      </Show>
      <Show when={showImport()}>
        <ImportModal onClose={() => setShowImport(false)} />
      </Show>
    </div>
  );
}
