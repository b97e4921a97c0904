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

/** The bulk actions but Delete, which has a button of its own (a danger one). */
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

/** Actions that ask first: they copy mail for real, stop engines, or remove jobs. */
type ConfirmedAction = "rerun-real" | "cancel" | "delete";

/** The question and what will happen, for `count` selected jobs. */
function confirmation(
  action: ConfirmedAction,
  count: number,
): { title: string; label: string; text: string } {
  const mailboxes = pluralize(count, "mailbox", "mailboxes");
  switch (action) {
    case "rerun-real":
      return {
        title: `Run a real migration of ${mailboxes}?`,
        label: "Run real",
        text: `Each selected job is queued again as a real run: mail is copied to the destination of ${mailboxes}. Nothing is deleted on either side.`,
      };
    case "cancel":
      return {
        title: `Cancel ${pluralize(count, "job")}?`,
        label: "Cancel jobs",
        text: "Queued jobs will not start; running ones stop now and keep what they copied. A rerun copies the rest.",
      };
    case "delete":
      return {
        title: `Delete ${pluralize(count, "job")}?`,
        label: "Delete",
        text: "Running jobs are cancelled first. Deleted jobs disappear from the list; their logs are kept.",
      };
  }
}

/** What to do with the selected jobs; shown while there is a selection. */
export function BulkBar(props: {
  selected: ReadonlySet<number>;
  onClear: () => void;
  /** After an action, with the selection cleared: the list re-reads. */
  onDone: () => void;
}): JSX.Element {
  const [confirming, setConfirming] = createSignal<ConfirmedAction | null>(null);
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
                onClick={() => {
                  if (button.action === "rerun-dry") void runBulk(button.action).catch(() => undefined);
                  else setConfirming(button.action);
                }}
              >
                <Icon name={button.icon} /> {button.label}
              </button>
            )}
          </For>
          <button
            type="button"
            class="btn btn-sm btn-danger"
            disabled={busy() !== null}
            onClick={() => setConfirming("delete")}
          >
            <Icon name="trash" /> Delete
          </button>
          <button type="button" class="btn btn-sm btn-ghost" onClick={() => props.onClear()}>
            Clear
          </button>
        </section>
      </Show>
      <Show when={confirming()}>
        {(action) => {
          const asked = () => confirmation(action(), props.selected.size);
          return (
            <ConfirmDialog
              title={asked().title}
              danger={action() !== "rerun-real"}
              confirmLabel={asked().label}
              dismissLabel="Go back"
              message={<p>{asked().text}</p>}
              onConfirm={() => runBulk(action())}
              onClose={() => setConfirming(null)}
            />
          );
        }}
      </Show>
    </>
  );
}
