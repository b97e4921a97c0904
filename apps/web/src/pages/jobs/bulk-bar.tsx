import type { JSX } from "solid-js";
import { createSignal, For, Show } from "solid-js";
import { api } from "../../api/client.ts";
import { pluralize } from "../../format.ts";
import { ConfirmDialog } from "../../ui/confirm.tsx";
import type { IconName } from "../../ui/icons.tsx";
import { Icon } from "../../ui/icons.tsx";
import { errorText } from "../../ui/states.tsx";
import { toast } from "../../ui/toasts.tsx";

type BulkAction = "rerun-real" | "rerun-dry" | "cancel" | "delete";

/** The bulk actions that run at once; Delete asks first, so it has its own button. */
const BULK_BUTTONS: { action: BulkAction; icon: IconName; label: string }[] = [
  { action: "rerun-real", icon: "play", label: "Run real" },
  { action: "rerun-dry", icon: "flask", label: "Dry run" },
  { action: "cancel", icon: "stop", label: "Cancel" },
];

const DONE_LABELS: Record<BulkAction, string> = {
  "rerun-real": "queued for a real run",
  "rerun-dry": "queued for a dry run",
  cancel: "cancelled",
  delete: "deleted",
};

/** What to do with the selected jobs; shown while there is a selection. */
export function BulkBar(props: {
  selected: ReadonlySet<number>;
  onClear: () => void;
  /** After an action, with the selection cleared: the list re-reads. */
  onDone: () => void;
}): JSX.Element {
  const [confirmDelete, setConfirmDelete] = createSignal(false);
  const [busy, setBusy] = createSignal<BulkAction | null>(null);

  async function runBulk(action: BulkAction): Promise<void> {
    const ids = [...props.selected];
    if (ids.length === 0) return;
    setBusy(action);
    try {
      const result = await api.jobs.bulk.mutate(
        action === "rerun-real" || action === "rerun-dry"
          ? { action: "rerun", ids, dryRun: action === "rerun-dry" }
          : { action, ids },
      );
      const firstError = result.results.find((r) => !r.ok)?.error?.message;
      if (result.succeeded > 0)
        toast("success", `${pluralize(result.succeeded, "job")} ${DONE_LABELS[action]}`);
      if (result.failed > 0)
        toast("error", `${pluralize(result.failed, "job")} could not be ${DONE_LABELS[action]}`, firstError);
      props.onClear();
      props.onDone();
    } catch (e: unknown) {
      toast("error", "The bulk action failed", errorText(e));
      throw e;
    } finally {
      setBusy(null);
    }
  }

  return (
    <>
      <Show when={props.selected.size > 0}>
        <section class="bulkbar" aria-label="Bulk actions">
          <strong>{props.selected.size} selected</strong>
          <div class="spacer" />
          <For each={BULK_BUTTONS}>
            {(button) => (
              <button
                type="button"
                class="btn btn-sm"
                disabled={busy() !== null}
                onClick={() => void runBulk(button.action).catch(() => undefined)}
              >
                <Icon name={button.icon} /> {button.label}
              </button>
            )}
          </For>
          <button
            type="button"
            class="btn btn-sm btn-danger"
            disabled={busy() !== null}
            onClick={() => setConfirmDelete(true)}
          >
            <Icon name="trash" /> Delete
          </button>
          <button type="button" class="btn btn-sm btn-ghost" onClick={() => props.onClear()}>
            Clear
          </button>
        </section>
      </Show>
      <Show when={confirmDelete()}>
        <ConfirmDialog
          title={`Delete ${pluralize(props.selected.size, "job")}?`}
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
    </>
  );
}
