import type { JSX } from "solid-js";
import {
  createEffect,
  createMemo,
  createResource,
  createSignal,
  For,
  Match,
  on,
  onCleanup,
  Show,
  Switch,
} from "solid-js";
import { createStore, reconcile } from "solid-js/store";
import { api } from "../api/client.ts";
import type { BatchItem, JobItem } from "../api/types.ts";
import { formatCount, formatDateTime, pluralize } from "../format.ts";
import { Link, setQuery, useLocation } from "../router.tsx";
import { noticeSessionLoss } from "../session.ts";
import { ConfirmDialog } from "../ui/confirm.tsx";
import { DataTable } from "../ui/data-table.tsx";
import type { IconName } from "../ui/icons.tsx";
import { Icon } from "../ui/icons.tsx";
import { JobProgressBar } from "../ui/job-progress.tsx";
import { EmptyState, errorText, LoadStates, Spinner } from "../ui/states.tsx";
import { StatusBadge } from "../ui/status-badge.tsx";
import { toast } from "../ui/toasts.tsx";
import { ImportModal } from "./import-modal.tsx";
import { JobFormModal } from "./job-form.tsx";
import type { LiveJobEvent } from "./live.ts";
import { subscribeJobEvents } from "./live.ts";

const STATUSES = ["queued", "running", "done", "failed", "cancelled", "interrupted"] as const;
type Status = (typeof STATUSES)[number];
const PAGE_SIZE = 25;

type BulkAction = "rerun-real" | "rerun-dry" | "cancel" | "delete";

/** The bulk actions that run at once; Delete asks first, so it has its own button. */
const BULK_BUTTONS: { action: BulkAction; icon: IconName; label: string }[] = [
  { action: "rerun-real", icon: "play", label: "Run real" },
  { action: "rerun-dry", icon: "flask", label: "Dry run" },
  { action: "cancel", icon: "stop", label: "Cancel" },
];

export function JobsPage(): JSX.Element {
  const location = useLocation();
  const status = () => (location().query.get("status") as Status | null) ?? null;
  const batchId = () => {
    const raw = location().query.get("batch");
    return raw ? Number(raw) : null;
  };
  const search = () => location().query.get("q") ?? "";
  const cursor = () => location().query.get("cursor") ?? "";
  // The API pages by cursor (stable under inserts); the cursors of earlier pages are remembered here
  // so "Previous" works, and a reload simply starts again from that page.
  const [cursorStack, setCursorStack] = createSignal<string[]>([]);
  const page = () => cursorStack().length + 1;

  const filters = createMemo(
    () => ({ status: status(), batchId: batchId(), search: search(), cursor: cursor() }),
    undefined,
    {
      equals: (a, b) =>
        a.status === b.status && a.batchId === b.batchId && a.search === b.search && a.cursor === b.cursor,
    },
  );

  const [rows, setRows] = createStore<{ items: JobItem[]; nextCursor: string | null }>({
    items: [],
    nextCursor: null,
  });
  const [list, { refetch }] = createResource(filters, async function loadJobs(f) {
    try {
      const result = await api.jobs.list.query({
        status: f.status ? [f.status] : undefined,
        batchId: f.batchId ?? undefined,
        q: f.search || undefined,
        cursor: f.cursor || undefined,
        limit: PAGE_SIZE,
      });
      setRows(reconcile({ items: result.items, nextCursor: result.nextCursor }, { key: "id" }));
      return result;
    } catch (e: unknown) {
      noticeSessionLoss(e);
      throw e;
    }
  });
  const [batch, { refetch: refetchBatch }] = createResource(batchId, async function loadBatch(id) {
    try {
      return await api.batches.get.query({ id });
    } catch {
      return null;
    }
  });
  const [batches] = createResource(async function loadBatches(): Promise<BatchItem[]> {
    try {
      return (await api.batches.list.query({ limit: 200 })).items;
    } catch {
      return [];
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
      if (batchId() !== null) void refetchBatch();
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
    const current = rows.items[index];
    if (event.progress) setRows("items", index, "progress", event.progress as JobItem["progress"]);
    if (current && event.status !== current.status) scheduleRefresh();
  }
  // One stream for the page, narrowed to the batch when the list is (re-opened when that changes).
  let stopEvents: () => void = () => undefined;
  createEffect(
    on(batchId, (id) => {
      stopEvents();
      statusOfUnshown.clear();
      stopEvents = subscribeJobEvents({
        ...(id === null ? {} : { batchId: id }),
        onEvent: handleJobEvent,
        onResync: scheduleRefresh,
      });
    }),
  );
  onCleanup(() => {
    stopEvents();
    window.clearTimeout(refreshTimer);
  });

  // Selection survives live refreshes but not a change of filter or page.
  const [selected, setSelected] = createSignal<Set<number>>(new Set());
  createEffect(on(filters, () => setSelected(new Set<number>()), { defer: true }));
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
  const allSelected = () => rows.items.length > 0 && rows.items.every((j) => selected().has(j.id));
  function toggleAll(on: boolean): void {
    setSelected(on ? new Set(rows.items.map((j) => j.id)) : new Set<number>());
  }

  const [showNew, setShowNew] = createSignal(false);
  const [showImport, setShowImport] = createSignal(false);
  const [confirmDelete, setConfirmDelete] = createSignal(false);
  const [bulkBusy, setBulkBusy] = createSignal<BulkAction | null>(null);

  async function runBulk(action: BulkAction): Promise<void> {
    const ids = [...selected()];
    if (ids.length === 0) return;
    setBulkBusy(action);
    try {
      const result = await api.jobs.bulk.mutate(
        action === "rerun-real" || action === "rerun-dry"
          ? { action: "rerun", ids, dryRun: action === "rerun-dry" }
          : { action, ids },
      );
      const labels: Record<BulkAction, string> = {
        "rerun-real": "queued for a real run",
        "rerun-dry": "queued for a dry run",
        cancel: "cancelled",
        delete: "deleted",
      };
      const firstError = result.results.find((r) => !r.ok)?.error?.message;
      if (result.succeeded > 0) toast("success", `${pluralize(result.succeeded, "job")} ${labels[action]}`);
      if (result.failed > 0)
        toast("error", `${pluralize(result.failed, "job")} could not be ${labels[action]}`, firstError);
      setSelected(new Set<number>());
      void refetch();
    } catch (e: unknown) {
      toast("error", "The bulk action failed", errorText(e));
      throw e;
    } finally {
      setBulkBusy(null);
    }
  }

  let searchTimer: number | undefined;
  function handleSearch(value: string): void {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(() => setQuery({ q: value.trim() || null, cursor: null }), 250);
  }

  function nextPage(): void {
    if (!rows.nextCursor) return;
    setCursorStack([...cursorStack(), cursor()]);
    setQuery({ cursor: rows.nextCursor });
  }
  function previousPage(): void {
    const stack = cursorStack();
    setCursorStack(stack.slice(0, -1));
    setQuery({ cursor: stack[stack.length - 1] || null });
  }
  // A new filter starts from the first page.
  createEffect(
    on(
      () => [status(), batchId(), search()] as const,
      () => setCursorStack([]),
      { defer: true },
    ),
  );
  const batchTag = (id: number) => batches()?.find((b) => b.id === id)?.tag ?? `#${id}`;
  const filtered = () => status() !== null || batchId() !== null || search() !== "";

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
        {(b) => <BatchSummary batch={b()} onClear={() => setQuery({ batch: null, cursor: null })} />}
      </Show>

      <div class="card">
        <div class="toolbar">
          <fieldset class="chips">
            <legend class="sr-only">Filter by status</legend>
            <button
              type="button"
              class="chip"
              aria-pressed={status() === null}
              onClick={() => setQuery({ status: null, cursor: null })}
            >
              All
            </button>
            <For each={STATUSES}>
              {(s) => (
                <button
                  type="button"
                  class="chip"
                  aria-pressed={status() === s}
                  onClick={() => setQuery({ status: status() === s ? null : s, cursor: null })}
                >
                  {s[0]?.toUpperCase()}
                  {s.slice(1)}
                </button>
              )}
            </For>
          </fieldset>
          <div class="spacer" />
          <select
            class="select"
            aria-label="Filter by batch"
            style={{ width: "auto", "min-width": "150px" }}
            value={batchId() === null ? "" : String(batchId())}
            onChange={(e) => setQuery({ batch: e.currentTarget.value || null, cursor: null })}
          >
            <option value="">All batches</option>
            <Show when={batchId() !== null && !batches()?.some((b) => b.id === batchId())}>
              <option value={String(batchId())}>{batch()?.tag ?? batchTag(batchId() ?? 0)}</option>
            </Show>
            <For each={batches() ?? []}>{(b) => <option value={String(b.id)}>{b.tag}</option>}</For>
          </select>
          <input
            class="input search"
            type="search"
            placeholder="Search name or email…"
            aria-label="Search jobs"
            value={search()}
            onInput={(e) => handleSearch(e.currentTarget.value)}
          />
        </div>

        <LoadStates
          failed={list.error && rows.items.length === 0}
          error={list.error}
          errorTitle="Could not load the jobs"
          onRetry={() => void refetch()}
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
                      <CreateJobButtons onImport={() => setShowImport(true)} onNew={() => setShowNew(true)} />
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
              <DataTable
                label="Jobs"
                rows={rows.items}
                busy={list.loading}
                head={
                  <>
                    <th class="col-check">
                      <input
                        type="checkbox"
                        aria-label="Select all jobs on this page"
                        checked={allSelected()}
                        onChange={(e) => toggleAll(e.currentTarget.checked)}
                      />
                    </th>
                    <th>Job</th>
                    <th>Status</th>
                    <th>Progress</th>
                    <th>Batch</th>
                    <th>Created</th>
                    <th>Finished</th>
                  </>
                }
              >
                {(job) => (
                  <tr data-job-id={job.id} data-status={job.status} data-selected={selected().has(job.id)}>
                    <td class="col-check">
                      <input
                        type="checkbox"
                        aria-label={`Select ${job.name || `job ${job.id}`}`}
                        checked={selected().has(job.id)}
                        onChange={(e) => toggle(job.id, e.currentTarget.checked)}
                      />
                    </td>
                    <td class="cell-main">
                      <Link href={`/jobs/${job.id}`}>{job.name || `${job.sourceEmail}`}</Link>
                      <div class="cell-sub">
                        {job.sourceEmail} → {job.destEmail}
                        <Show when={job.dryRun}>
                          {" "}
                          <span class="tag tag-dry">dry run</span>
                        </Show>
                      </div>
                    </td>
                    <td data-label="Status">
                      <StatusBadge status={job.status} />
                    </td>
                    <td
                      data-label="Progress"
                      class={
                        job.status !== "running" && !job.progress?.total && !job.stats ? "empty-cell" : ""
                      }
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
                          {job.batchTag ?? batchTag(job.batchId ?? 0)}
                        </button>
                      </Show>
                    </td>
                    <td data-label="Created" class="nowrap muted">
                      {formatDateTime(job.createdAt)}
                    </td>
                    <td
                      data-label="Finished"
                      class={job.finishedAt ? "nowrap muted" : "nowrap muted empty-cell"}
                    >
                      {formatDateTime(job.finishedAt)}
                    </td>
                  </tr>
                )}
              </DataTable>
              <div class="pager">
                <span>
                  Page {page()} · {pluralize(rows.items.length, "job")}
                  <Show when={list.loading}>
                    {" "}
                    <Spinner label="Refreshing" />
                  </Show>
                </span>
                <div class="row">
                  <button type="button" class="btn btn-sm" disabled={cursor() === ""} onClick={previousPage}>
                    Previous
                  </button>
                  <button type="button" class="btn btn-sm" disabled={!rows.nextCursor} onClick={nextPage}>
                    Next
                  </button>
                </div>
              </div>
            </>
          )}
        </LoadStates>
      </div>

      <Show when={selected().size > 0}>
        <section class="bulkbar" aria-label="Bulk actions">
          <strong>{selected().size} selected</strong>
          <div class="spacer" />
          <For each={BULK_BUTTONS}>
            {(button) => (
              <button
                type="button"
                class="btn btn-sm"
                disabled={bulkBusy() !== null}
                onClick={() => void runBulk(button.action).catch(() => undefined)}
              >
                <Icon name={button.icon} /> {button.label}
              </button>
            )}
          </For>
          <button
            type="button"
            class="btn btn-sm btn-danger"
            disabled={bulkBusy() !== null}
            onClick={() => setConfirmDelete(true)}
          >
            <Icon name="trash" /> Delete
          </button>
          <button type="button" class="btn btn-sm btn-ghost" onClick={() => setSelected(new Set<number>())}>
            Clear
          </button>
        </section>
      </Show>

      <Show when={confirmDelete()}>
        <ConfirmDialog
          title={`Delete ${pluralize(selected().size, "job")}?`}
          danger
          confirmLabel="Delete"
          message={
            <p>
              Running jobs are cancelled first. Deleted jobs disappear from the list; their logs are kept.
            </p>
          }
          onConfirm={() => runBulk("delete")}
          onClose={() => setConfirmDelete(false)}
        />
      </Show>
      <Show when={showNew()}>
        <JobFormModal onClose={() => setShowNew(false)} />
      </Show>
      <Show when={showImport()}>
        <ImportModal onClose={() => setShowImport(false)} />
      </Show>
    </div>
  );
}

/** The two ways to add jobs, offered in the page head and again by the empty list. */
function CreateJobButtons(props: { onImport: () => void; onNew: () => void }): JSX.Element {
  return (
    <>
      <button type="button" class="btn" onClick={() => props.onImport()}>
        <Icon name="upload" /> Import CSV
      </button>
      <button type="button" class="btn btn-primary" onClick={() => props.onNew()}>
        <Icon name="plus" /> New job
      </button>
    </>
  );
}

/**
 * Running jobs get a live bar with the ETA; a finished dry run says what a real run would copy (its
 * counters are not progress); other jobs keep the bar of how far they got.
 */
function ProgressCell(props: { job: JobItem }): JSX.Element {
  const wouldCopy = () => {
    const value = props.job.stats?.messagesWouldTransfer;
    return typeof value === "number" ? value : null;
  };
  return (
    <Switch fallback={<span class="muted">—</span>}>
      <Match when={props.job.status === "running"}>
        <JobProgressBar progress={props.job.progress} running />
      </Match>
      <Match when={props.job.dryRun && props.job.status === "done" && wouldCopy() !== null}>
        <span class="small">
          Would copy <strong>{formatCount(wouldCopy())}</strong>
          <Show when={props.job.progress?.total}>
            {(total) => <span class="muted"> of {formatCount(total())}</span>}
          </Show>
        </span>
      </Match>
      <Match when={props.job.progress?.total}>
        <JobProgressBar progress={props.job.progress} running={false} />
      </Match>
    </Switch>
  );
}

/** The batch the list is filtered to: its tag and how many of its jobs are in each state, live. */
function BatchSummary(props: { batch: BatchItem; onClear: () => void }): JSX.Element {
  const shown = () => STATUSES.filter((s) => (props.batch.counts[s] ?? 0) > 0);
  const finished = () =>
    (props.batch.counts.done ?? 0) + (props.batch.counts.failed ?? 0) + (props.batch.counts.cancelled ?? 0);
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
      <button type="button" class="btn btn-sm btn-ghost" onClick={() => props.onClear()}>
        All jobs
      </button>
    </div>
  );
}
