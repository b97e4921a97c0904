import type { JSX } from "solid-js";
import { createSignal } from "solid-js";
import { Modal } from "./modal.tsx";

export interface ConfirmProps {
  title: string;
  message: JSX.Element;
  confirmLabel: string;
  /** The button that closes without acting; name it for what it keeps when "Cancel" is the action. @defaultValue "Cancel" */
  dismissLabel?: string;
  danger?: boolean;
  /** Optional extra content (e.g. a hard-delete checkbox) rendered under the message. */
  extra?: JSX.Element;
  onConfirm: () => Promise<void> | void;
  onClose: () => void;
}

/** A confirmation dialog whose confirm button shows progress and stays put until the action ends. */
export function ConfirmDialog(props: ConfirmProps): JSX.Element {
  const [busy, setBusy] = createSignal(false);
  async function confirm(): Promise<void> {
    setBusy(true);
    try {
      await props.onConfirm();
      props.onClose();
    } catch {
      // The action reported its own error (toast); keep the dialog so the user can retry or cancel.
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal
      title={props.title}
      onClose={props.onClose}
      footer={
        <>
          <button type="button" class="btn" onClick={() => props.onClose()}>
            {props.dismissLabel ?? "Cancel"}
          </button>
          <button
            type="button"
            class={props.danger ? "btn btn-danger-solid" : "btn btn-primary"}
            disabled={busy()}
            onClick={() => void confirm()}
            autofocus
          >
            {busy() ? "Working…" : props.confirmLabel}
          </button>
        </>
      }
    >
      <div>{props.message}</div>
      {props.extra}
    </Modal>
  );
}
