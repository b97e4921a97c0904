import type { JSX } from "solid-js";
import { createUniqueId, onCleanup, onMount, Show } from "solid-js";
import { Portal } from "solid-js/web";
import { Icon } from "./icons.tsx";

export interface ModalProps {
  title: string;
  onClose: () => void;
  children: JSX.Element;
  footer?: JSX.Element;
  wide?: boolean;
}

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * A dialog that keeps keyboard focus inside while open, closes on Escape or a backdrop click, and
 * gives focus back to whatever opened it.
 */
export function Modal(props: ModalProps): JSX.Element {
  const titleId = createUniqueId();
  let panel: HTMLDivElement | undefined;
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;

  function handleKeyDown(event: KeyboardEvent): void {
    if (event.key === "Escape") {
      event.stopPropagation();
      props.onClose();
      return;
    }
    if (event.key !== "Tab" || !panel) return;
    const items = [...panel.querySelectorAll<HTMLElement>(FOCUSABLE)];
    const first = items[0];
    const last = items[items.length - 1];
    if (!first || !last) return;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  onMount(function focusFirstField() {
    const target =
      panel?.querySelector<HTMLElement>("[autofocus]") ??
      panel?.querySelector<HTMLElement>(".modal-body input, .modal-body select, .modal-body textarea") ??
      panel?.querySelector<HTMLElement>(FOCUSABLE);
    target?.focus();
  });
  onCleanup(function restoreFocus() {
    opener?.focus();
  });

  function handleBackdrop(event: MouseEvent): void {
    if (event.target === event.currentTarget) props.onClose();
  }

  return (
    <Portal>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: a backdrop click is a mouse shortcut; Escape and the close button serve the keyboard. */}
      <div class="modal-backdrop" onMouseDown={handleBackdrop}>
        <div
          ref={panel}
          class={props.wide ? "modal modal-wide" : "modal"}
          role="dialog"
          aria-modal="true"
          aria-labelledby={titleId}
          onKeyDown={handleKeyDown}
        >
          <div class="modal-head">
            <h2 id={titleId}>{props.title}</h2>
            <button
              type="button"
              class="btn btn-ghost btn-icon"
              aria-label="Close"
              onClick={() => props.onClose()}
            >
              <Icon name="x" />
            </button>
          </div>
          <div class="modal-body">{props.children}</div>
          <Show when={props.footer}>
            <div class="modal-foot">{props.footer}</div>
          </Show>
        </div>
      </div>
    </Portal>
  );
}

/**
 * The footer of a modal that holds a form: a dismiss button and the form's submit button, tied to
 * the form by its id because the footer sits outside the `<form>`.
 */
export function ModalFormFooter(props: {
  form: string;
  busy: boolean;
  onDismiss: () => void;
  /** @defaultValue "Cancel" */
  dismissLabel?: string;
  /** The submit button's content. */
  children: JSX.Element;
}): JSX.Element {
  return (
    <>
      <button type="button" class="btn" onClick={() => props.onDismiss()}>
        {props.dismissLabel ?? "Cancel"}
      </button>
      <button type="submit" form={props.form} class="btn btn-primary" disabled={props.busy}>
        {props.children}
      </button>
    </>
  );
}
