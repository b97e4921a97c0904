import type { JSX } from "solid-js";
import { createResource, createSignal, For, onCleanup, Show } from "solid-js";
import { api } from "../api/client.ts";
import type { JobItem } from "../api/types.ts";
import { formatBytes, formatCount, formatDateTime, formatDuration } from "../format.ts";
import { followJobLog } from "../log/follow-log.ts";
import type { LogViewController } from "../log/log-view.tsx";
import { LogView } from "../log/log-view.tsx";
import { Link, navigate } from "../router.tsx";
import { noticeSessionLoss } from "../session.ts";
import { ConfirmDialog } from "../ui/confirm.tsx";
import { Icon } from "../ui/icons.tsx";
import { JobProgressBar } from "../ui/job-progress.tsx";
import { ErrorState, errorText, LoadStates } from "../ui/states.tsx";
import { StatusBadge } from "../ui/status-badge.tsx";
import { toast } from "../ui/toasts.tsx";
import { ToggleField } from "../ui/toggle-field.tsx";
import { JobFormModal } from "./job-form.tsx";
import { subscribeJobEvents } from "./live.ts";

const ACTIVE = new Set(["queued", "running"]);

export function JobDetailPage(props: { params: Record<string, string> }): JSX.Element {
  return (
    <Show
      when={Number(props.params.id)}
      keyed
      fallback={<ErrorState title="No such job" error="The address names no job." />}
    >
      {(id) => <JobDetail id={id} />}
    </Show>
  );
}

function JobDetail(props: { id: number }): JSX.Element {
  const [job, { refetch, mutate }] = createResource(
    () => props.id,
    async function loadJob(id): Promise<JobItem> {
      try {
        return await api.jobs.get.query({ id });
      } catch (e: unknown) {
        noticeSessionLoss(e);
        throw e;
      }
    },
  );

  // Progress arrives in place; a status change re-reads the job (timestamps, statistics, error).
  const stopEvents = subscribeJobEvents({
    jobId: props.id,
    onEvent(event) {
      const current = job.latest;
      if (!current) return;
      if (event.status === "deleted") {
        toast("info", "This job was deleted");
        navigate("/jobs");
        return;
      }
      if (event.progress) mutate({ ...current, progress: event.progress as JobItem["progress"] });
      if (event.status !== current.status) void refetch();
    },
    onResync: () => void refetch(),
  });

  // The log: one subscription for the page's life; it ends by itself once the job is over.
  // Text can arrive before the log view exists (it mounts once the job is loaded): hold it until then.
  let log: LogViewController | undefined;
  let early: string[] = [];
  function attachLog(controller: LogViewController): void {
    log = controller;
    for (const text of early) controller.append(text);
    early = [];
  }
  const [logState, setLogState] = createSignal<"live" | "ended" | "error">("live");
  const stopLog = followJobLog(props.id, {
    onText: (text) => (log ? log.append(text) : early.push(text)),
    onEnd: () => setLogState("ended"),
    onError: () => setLogState("error"),
  });
  onCleanup(() => {
    stopEvents();
    stopLog();
  });

  const [editing, setEditing] = createSignal(false);
  const [deleting, setDeleting] = createSignal(false);
  const [hardDelete, setHardDelete] = createSignal(false);
  const [busy, setBusy] = createSignal<string | null>(null);

  async function act(label: string, action: () => Promise<unknown>, success: string): Promise<void> {
    setBusy(label);
    try {
      await action();
      toast("success", success);
    } catch (e: unknown) {
      toast("error", `Could not ${label}`, errorText(e));
    } finally {
      setBusy(null);
    }
  }

  async function rerun(dryRun: boolean): Promise<void> {
    setBusy(dryRun ? "dry" : "real");
    try {
      const created = await api.jobs.rerun.mutate({ id: props.id, dryRun });
      toast("success", dryRun ? "Dry run queued" : "Real migration queued", `Job #${created.id}`);
      navigate(`/jobs/${created.id}`);
    } catch (e: unknown) {
      toast("error", "Could not queue the run", errorText(e));
    } finally {
      setBusy(null);
    }
  }

  async function deleteJob(): Promise<void> {
    try {
      await api.jobs.delete.mutate({ id: props.id, hard: hardDelete() });
      toast("success", hardDelete() ? "Job deleted for good" : "Job deleted");
      navigate("/jobs");
    } catch (e: unknown) {
      toast("error", "Could not delete the job", errorText(e));
      throw e;
    }
  }

  return (
    <div class="page">
      <LoadStates
        failed={job.error && !job.latest}
        error={job.error}
        errorTitle="Could not load this job"
        onRetry={() => void refetch()}
        loading={!job.latest}
        loadingLabel="Loading the job…"
        ready={job.latest}
      >
        {(j) => (
          <>
            <div class="page-head">
              <div style={{ "min-width": 0 }}>
                <div class="breadcrumb">
                  <Link href="/jobs">Jobs</Link>
                  <Show when={j().batchId !== null}>
                    {" / "}
                    <Link href={`/jobs?batch=${j().batchId}`}>{j().batchTag ?? `batch ${j().batchId}`}</Link>
                  </Show>
                  {" / "}#{j().id}
                </div>
                <div class="row">
                  <h1 style={{ "overflow-wrap": "anywhere" }}>{j().name || j().sourceEmail}</h1>
                  <StatusBadge status={j().status} />
                  <Show when={j().dryRun}>
                    <span class="tag tag-dry">dry run</span>
                  </Show>
                </div>
                <p class="sub">
                  {j().sourceEmail}{" "}
                  <span class="muted">on {j().sourceServerName ?? `server ${j().sourceServerId}`}</span> →{" "}
                  {j().destEmail}{" "}
                  <span class="muted">on {j().destServerName ?? `server ${j().destServerId}`}</span>
                </p>
              </div>
              <div class="page-actions">
                <Show when={j().dryRun && !ACTIVE.has(j().status)}>
                  <button
                    type="button"
                    class="btn btn-primary"
                    disabled={busy() !== null}
                    onClick={() => void rerun(false)}
                  >
                    <Icon name="play" /> Run real
                  </button>
                </Show>
                <button
                  type="button"
                  class="btn"
                  disabled={busy() !== null || ACTIVE.has(j().status)}
                  onClick={() => void rerun(true)}
                >
                  <Icon name="flask" /> Dry run
                </button>
                <Show when={!j().dryRun && !ACTIVE.has(j().status)}>
                  <button
                    type="button"
                    class="btn"
                    disabled={busy() !== null}
                    onClick={() => void rerun(false)}
                  >
                    <Icon name="refresh" /> {j().status === "done" ? "Run again" : "Rerun"}
                  </button>
                </Show>
                <button
                  type="button"
                  class="btn"
                  disabled={j().status === "running"}
                  title={
                    j().status === "running" ? "A running job cannot be edited; cancel it first." : undefined
                  }
                  onClick={() => setEditing(true)}
                >
                  <Icon name="edit" /> Edit
                </button>
                <Show when={ACTIVE.has(j().status)}>
                  <button
                    type="button"
                    class="btn btn-danger"
                    disabled={busy() !== null || j().cancelRequestedAt !== null}
                    onClick={() =>
                      void act(
                        "cancel the job",
                        () => api.jobs.cancel.mutate({ id: props.id }),
                        "Cancel requested",
                      )
                    }
                  >
                    <Icon name="stop" /> {j().cancelRequestedAt ? "Cancelling…" : "Cancel"}
                  </button>
                </Show>
                <a class="btn" href={`/api/jobs/${props.id}/log`} download={`job-${props.id}.log`}>
                  <Icon name="download" /> Download log
                </a>
                <button
                  type="button"
                  class="btn btn-icon btn-danger"
                  aria-label="Delete job"
                  onClick={() => setDeleting(true)}
                >
                  <Icon name="trash" />
                </button>
              </div>
            </div>

            <Show when={j().errorMessage && (j().status === "failed" || j().status === "interrupted")}>
              <div class="error-sentence" role="alert">
                <Icon name="alert" class="icon-18" />
                <div>
                  <strong>
                    {j().status === "failed" ? "The migration failed" : "The migration was interrupted"}
                  </strong>
                  <span data-error-sentence>{j().errorMessage}</span>
                  <Show when={j().errorCategory}>
                    <span class="muted small"> ({j().errorCategory})</span>
                  </Show>
                </div>
              </div>
            </Show>

            <div class="grid-3">
              <div class="stack">
                <Show when={j().status === "running" || j().progress?.total}>
                  <div class="card">
                    <div class="card-head">
                      <h2>Progress</h2>
                      <span class="muted small">
                        <Show when={j().progress?.folder}>
                          {(folder) => (
                            <>
                              Folder <span class="mono">{folder()}</span>
                              <Show when={j().progress?.folderCount}>
                                {" "}
                                ({j().progress?.folderIndex ?? "?"}/{j().progress?.folderCount})
                              </Show>
                            </>
                          )}
                        </Show>
                      </span>
                    </div>
                    <div class="card-body">
                      <JobProgressBar progress={j().progress} running={j().status === "running"} />
                      <Show when={j().progress?.msgsPerSecond}>
                        {(rate) => (
                          <p class="muted small" style={{ "margin-top": "6px" }}>
                            {rate().toFixed(1)} messages/s
                          </p>
                        )}
                      </Show>
                    </div>
                  </div>
                </Show>
                <div class="card">
                  <div class="card-head">
                    <h2>Log</h2>
                    <span class="muted small" data-log-state={logState()}>
                      {logState() === "live"
                        ? ACTIVE.has(j().status)
                          ? "live"
                          : ""
                        : logState() === "error"
                          ? "disconnected"
                          : "complete"}
                    </span>
                  </div>
                  <LogView
                    ref={attachLog}
                    label={`Log of job ${props.id}`}
                    emptyText={j().status === "queued" ? "Waiting for a worker…" : "No output yet."}
                  />
                </div>
              </div>
              <div class="stack">
                <StatsCard job={j()} />
                <div class="card">
                  <div class="card-head">
                    <h2>Details</h2>
                  </div>
                  <div class="card-body">
                    <dl class="facts">
                      <dt>Created</dt>
                      <dd>{formatDateTime(j().createdAt)}</dd>
                      <dt>Started</dt>
                      <dd>{formatDateTime(j().startedAt)}</dd>
                      <dt>Finished</dt>
                      <dd>{formatDateTime(j().finishedAt)}</dd>
                      <dt>Worker</dt>
                      <dd class="mono">{j().workerId ?? "—"}</dd>
                      <dt>Attempt</dt>
                      <dd>{j().attempt}</dd>
                      <Show when={j().rerunOf}>
                        <dt>Rerun of</dt>
                        <dd>
                          <Link href={`/jobs/${j().rerunOf}`}>#{j().rerunOf}</Link>
                        </dd>
                      </Show>
                      <dt>Log size</dt>
                      <dd>{formatBytes(j().logBytes)}</dd>
                      <Show when={setOptions(j().options).length > 0}>
                        <dt>Options</dt>
                        <dd class="option-list">
                          <For each={setOptions(j().options)}>
                            {(option) => <span class="tag">{option}</span>}
                          </For>
                        </dd>
                      </Show>
                    </dl>
                  </div>
                </div>
              </div>
            </div>

            <Show when={editing()}>
              <JobFormModal job={j()} onClose={() => setEditing(false)} onSaved={() => void refetch()} />
            </Show>
            <Show when={deleting()}>
              <ConfirmDialog
                title="Delete this job?"
                danger
                confirmLabel={hardDelete() ? "Delete for good" : "Delete"}
                message={
                  <p>
                    {ACTIVE.has(j().status) ? "It is cancelled first. " : ""}A deleted job leaves the list;
                    its history is kept unless you delete it for good.
                  </p>
                }
                extra={
                  <ToggleField
                    label="Delete for good"
                    description="Also remove its log and statistics. This cannot be undone."
                    checked={hardDelete()}
                    onToggle={setHardDelete}
                  />
                }
                onConfirm={deleteJob}
                onClose={() => setDeleting(false)}
              />
            </Show>
          </>
        )}
      </LoadStates>
    </div>
  );
}

/** The engine options that differ from their defaults, as "name: value" labels. */
function setOptions(options: Record<string, unknown> | null | undefined): string[] {
  return Object.entries(options ?? {})
    .filter(
      ([, value]) =>
        value !== false &&
        value !== null &&
        value !== undefined &&
        !(Array.isArray(value) && value.length === 0),
    )
    .map(([key, value]) => {
      if (value === true) return key;
      if (Array.isArray(value))
        return `${key}: ${value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ")}`;
      return `${key}: ${String(value)}`;
    });
}

function statNumber(stats: Record<string, unknown> | null, key: string): number | null {
  const value = stats?.[key];
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function StatsCard(props: { job: JobItem }): JSX.Element {
  const stats = () => props.job.stats;
  const duration = () => {
    const fromStats = statNumber(stats(), "transferTimeSeconds");
    if (fromStats !== null) return fromStats;
    if (!props.job.startedAt) return null;
    const end = props.job.finishedAt ? new Date(props.job.finishedAt) : null;
    return end ? (end.getTime() - new Date(props.job.startedAt).getTime()) / 1000 : null;
  };
  const transferred = () => statNumber(stats(), "messagesTransferred") ?? props.job.progress?.copied ?? null;
  return (
    <div class="card">
      <div class="card-head">
        <h2>Statistics</h2>
        <Show when={!stats()}>
          <span class="muted small">{ACTIVE.has(props.job.status) ? "when it ends" : "none reported"}</span>
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
          {formatDuration(duration())}
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
