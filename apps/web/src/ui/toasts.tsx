import type { JSX } from "solid-js";
import { createSignal, For } from "solid-js";
import { Icon } from "./icons.tsx";

export type ToastKind = "success" | "error" | "info";

interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  text?: string;
}

const [toasts, setToasts] = createSignal<Toast[]>([]);
let nextId = 1;

function dismiss(id: number): void {
  setToasts((list) => list.filter((t) => t.id !== id));
}

/** Shows a short confirmation or failure; errors stay longer because they need reading. */
export function toast(kind: ToastKind, title: string, text?: string): void {
  const id = nextId++;
  setToasts((list) => [...list.slice(-3), { id, kind, title, text }]);
  window.setTimeout(() => dismiss(id), kind === "error" ? 9000 : 4500);
}

const ICONS = { success: "check", error: "alert", info: "info" } as const;

export function Toaster(): JSX.Element {
  return (
    <section class="toasts" aria-label="Notifications" aria-live="polite">
      <For each={toasts()}>
        {(t) => (
          <div class="toast" data-kind={t.kind} role={t.kind === "error" ? "alert" : "status"}>
            <Icon name={ICONS[t.kind]} class="toast-icon" />
            <div class="toast-body">
              <div class="toast-title">{t.title}</div>
              {t.text ? <div class="toast-text">{t.text}</div> : null}
            </div>
            <button type="button" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        )}
      </For>
    </section>
  );
}
