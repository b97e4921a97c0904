import type { JSX } from "solid-js";
import { createSignal, For, Show } from "solid-js";
import { api } from "../../api/client.ts";
import type { BatchItem } from "../../api/types.ts";
import { pluralize } from "../../format.ts";
import { ConfirmDialog } from "../../ui/confirm.tsx";
import { Icon } from "../../ui/icons.tsx";
import { errorText } from "../../ui/states.tsx";
import { StatusBadge } from "../../ui/status-badge.tsx";
import { toast } from "../../ui/toasts.tsx";
import { JOB_STATUSES } from "./job-statuses.ts";

type BatchAction = "rerun-failed" | "run-real";

/** Mailboxes whose latest run "Rerun failed" queues again (the server's RERUN_FAILED_STATUSES). */
function failedCount(batch: BatchItem): number {
  return (batch.counts.failed ?? 0) + (batch.counts.incomplete ?? 0) + (batch.counts.interrupted ?? 0);
}

function confirmation(action: BatchAction, batch: BatchItem): { title: string; label: string; text: string } {
  if (action === "rerun-failed") {
    const count = failedCount(batch);
    const mailboxes = pluralize(count, "mailbox", "mailboxes");
    return {
      title: `Rerun ${mailboxes}?`,
      label: `Rerun ${mailboxes}`,
      text: `The latest run of ${mailboxes} failed, was incomplete or was interrupted: each is queued again, as a dry run or real as it was. The new run replaces the old one in the batch's counts and report; the old one stays under "Previous runs".`,
    };
  }
  const mailboxes = pluralize(batch.endedDryRuns, "mailbox", "mailboxes");
  return {
    title: `Run a real migration of ${mailboxes}?`,
    label: `Run ${mailboxes} for real`,
    text: `The dry run of ${mailboxes} has ended: each is queued again as a real run, which copies mail to its destination. Nothing is deleted on either side. Jobs added to this batch later run for real too.`,
  };
}

/** The batch the list is filtered to: its tag and how many of its mailboxes are in each state, live. */
export function BatchSummary(props: {
  batch: BatchItem;
  onClear: () => void;
  /** After an action: the batch and the list re-read. */
  onChanged?: () => void;
}): JSX.Element {
  const [confirming, setConfirming] = createSignal<BatchAction | null>(null);
  const shown = () => JOB_STATUSES.filter((s) => (props.batch.counts[s] ?? 0) > 0);
  const finished = () =>
    (props.batch.counts.done ?? 0) +
    (props.batch.counts.incomplete ?? 0) +
    (props.batch.counts.failed ?? 0) +
    (props.batch.counts.cancelled ?? 0);

  async function run(action: BatchAction): Promise<void> {
    try {
      const result =
        action === "rerun-failed"
          ? await api.batches.rerunFailed.mutate({ id: props.batch.id })
          : await api.batches.runReal.mutate({ id: props.batch.id });
      const firstError = result.results.find((r) => !r.ok)?.error?.message;
      const what = action === "rerun-failed" ? "queued again" : "queued for a real run";
      if (result.succeeded > 0)
        toast("success", `${pluralize(result.succeeded, "mailbox", "mailboxes")} ${what}`);
      else if (result.failed === 0) toast("info", "Nothing to run: the batch changed meanwhile.");
      if (result.failed > 0)
        toast(
          "error",
          `${pluralize(result.failed, "mailbox", "mailboxes")} could not be ${what}`,
          firstError,
        );
      props.onChanged?.();
    } catch (e: unknown) {
      toast("error", "The batch action failed", errorText(e));
      throw e;
    }
  }

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
      <Show when={failedCount(props.batch) > 0}>
        <button
          type="button"
          class="btn btn-sm"
          data-batch-rerun-failed
          onClick={() => setConfirming("rerun-failed")}
        >
          <Icon name="play" /> Rerun failed ({failedCount(props.batch)})
        </button>
      </Show>
      <Show when={props.batch.endedDryRuns > 0}>
        <button
          type="button"
          class="btn btn-sm"
          data-batch-run-real
          onClick={() => setConfirming("run-real")}
        >
          <Icon name="play" /> Run real ({props.batch.endedDryRuns})
        </button>
      </Show>
      <a class="btn btn-sm" href={`/api/batches/${props.batch.id}/report.csv`} download="" data-batch-report>
        Report (CSV)
      </a>
      <button type="button" class="btn btn-sm btn-ghost" onClick={() => props.onClear()}>
        All jobs
      </button>
      <Show when={confirming()}>
        {(action) => {
          const asked = () => confirmation(action(), props.batch);
          return (
            <ConfirmDialog
              title={asked().title}
              confirmLabel={asked().label}
              dismissLabel="Go back"
              message={<p>{asked().text}</p>}
              onConfirm={() => run(action())}
              onClose={() => setConfirming(null)}
            />
          );
        }}
      </Show>
    </div>
  );
}
