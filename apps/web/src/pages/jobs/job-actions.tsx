import type { JSX } from "solid-js";
import { createSignal, Show } from "solid-js";
import { api } from "../../api/client.ts";
import type { JobItem } from "../../api/types.ts";
import { navigate } from "../../router.tsx";
import { ConfirmDialog } from "../../ui/confirm.tsx";
import { Icon } from "../../ui/icons.tsx";
import { errorText } from "../../ui/states.tsx";
import { toast } from "../../ui/toasts.tsx";
import { ToggleField } from "../../ui/toggle-field.tsx";
import { JobFormModal } from "./job-form.tsx";
import { ACTIVE_STATUSES } from "./job-statuses.ts";

/**
 * What can be done with the job from its page: run it (again, for real or dry), edit, cancel,
 * download its log, delete it. A rerun opens the new job's page.
 */
export function JobActions(props: { job: JobItem; onChanged: () => void }): JSX.Element {
  const j = () => props.job;
  const active = () => ACTIVE_STATUSES.has(j().status);
  const [editing, setEditing] = createSignal(false);
  const [deleting, setDeleting] = createSignal(false);
  const [cancelling, setCancelling] = createSignal(false);
  const [hardDelete, setHardDelete] = createSignal(false);
  const [busy, setBusy] = createSignal<string | null>(null);

  async function cancel(): Promise<void> {
    setBusy("cancel");
    try {
      await api.jobs.cancel.mutate({ id: j().id });
      toast("success", "Cancel requested");
    } catch (e: unknown) {
      toast("error", "Could not cancel the job", errorText(e));
      throw e;
    } finally {
      setBusy(null);
    }
  }

  async function resumeNow(): Promise<void> {
    setBusy("resume");
    try {
      await api.jobs.resume.mutate({ id: j().id });
      toast("success", "Resuming now");
      props.onChanged();
    } catch (e: unknown) {
      toast("error", "Could not resume the job", errorText(e));
    } finally {
      setBusy(null);
    }
  }

  async function rerun(dryRun: boolean): Promise<void> {
    setBusy(dryRun ? "dry" : "real");
    try {
      const created = await api.jobs.rerun.mutate({ id: j().id, dryRun });
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
      await api.jobs.delete.mutate({ id: j().id, hard: hardDelete() });
      toast("success", hardDelete() ? "Job deleted for good" : "Job deleted");
      navigate("/jobs");
    } catch (e: unknown) {
      toast("error", "Could not delete the job", errorText(e));
      throw e;
    }
  }

  return (
    <div class="page-actions">
      <Show when={j().status === "waiting"}>
        <button
          type="button"
          class="btn btn-primary"
          disabled={busy() !== null}
          onClick={() => void resumeNow()}
        >
          <Icon name="play" /> Resume now
        </button>
      </Show>
      <Show when={j().dryRun && !active()}>
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
        disabled={busy() !== null || active()}
        onClick={() => void rerun(true)}
      >
        <Icon name="flask" /> Dry run
      </button>
      <Show when={!j().dryRun && !active()}>
        <button type="button" class="btn" disabled={busy() !== null} onClick={() => void rerun(false)}>
          <Icon name="refresh" /> {j().status === "done" ? "Run again" : "Rerun"}
        </button>
      </Show>
      <button
        type="button"
        class="btn"
        disabled={j().status === "running"}
        title={j().status === "running" ? "A running job cannot be edited; cancel it first." : undefined}
        onClick={() => setEditing(true)}
      >
        <Icon name="edit" /> Edit
      </button>
      <Show when={active()}>
        <button
          type="button"
          class="btn btn-danger"
          disabled={busy() !== null || j().cancelRequestedAt !== null}
          onClick={() => setCancelling(true)}
        >
          <Icon name="stop" /> {j().cancelRequestedAt ? "Cancelling…" : "Cancel"}
        </button>
      </Show>
      <a class="btn" href={`/api/jobs/${j().id}/log`} download={`job-${j().id}.log`}>
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

      <Show when={editing()}>
        <JobFormModal job={j()} onClose={() => setEditing(false)} onSaved={props.onChanged} />
      </Show>
      <Show when={cancelling()}>
        <ConfirmDialog
          title={j().status === "running" ? "Stop this migration?" : "Cancel this migration?"}
          danger
          confirmLabel={j().status === "running" ? "Stop migration" : "Cancel migration"}
          dismissLabel={j().status === "running" ? "Keep running" : "Keep it queued"}
          message={
            <p>
              {j().status === "running"
                ? `The engine stops now, in the middle of ${j().sourceEmail}. What it already copied stays on the destination; a rerun copies the rest.`
                : `${j().sourceEmail} will not be migrated unless you run it again.`}
            </p>
          }
          onConfirm={cancel}
          onClose={() => setCancelling(false)}
        />
      </Show>
      <Show when={deleting()}>
        <ConfirmDialog
          title="Delete this job?"
          danger
          confirmLabel={hardDelete() ? "Delete for good" : "Delete"}
          message={
            <p>
              {active() ? "It is cancelled first. " : ""}A deleted job leaves the list; its history is kept
              unless you delete it for good.
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
    </div>
  );
}
