import type { JSX } from "solid-js";
import { createUniqueId, Show, untrack } from "solid-js";

export interface FieldProps {
  label: string;
  error?: string | undefined;
  hint?: string;
  class?: string;
  /** Receives the generated id so the control and its label are tied together. */
  children: (id: string, describedBy: () => string | undefined) => JSX.Element;
}

export function Field(props: FieldProps): JSX.Element {
  const id = createUniqueId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  function describedBy(): string | undefined {
    if (props.error) return errorId;
    if (props.hint) return hintId;
    return undefined;
  }
  return (
    <div class={`field ${props.class ?? ""}`}>
      <label for={id}>{props.label}</label>
      {untrack(() => props.children(id, describedBy))}
      <Show when={props.error}>
        <div class="error" id={errorId}>
          {props.error}
        </div>
      </Show>
      <Show when={!props.error && props.hint}>
        <div class="hint" id={hintId}>
          {props.hint}
        </div>
      </Show>
    </div>
  );
}
