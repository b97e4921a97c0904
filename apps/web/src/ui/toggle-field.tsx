import type { JSX } from "solid-js";

/** A checkbox drawn as a switch, with a bold label and a muted sentence under it. */
export function ToggleField(props: {
  label: string;
  description: string;
  checked: boolean;
  onToggle: (checked: boolean) => void;
  name?: string;
  disabled?: boolean;
  /** Extra classes for the `<label class="switch">`, e.g. "span-2" in a form grid. */
  class?: string;
}): JSX.Element {
  return (
    <label class={props.class ? `switch ${props.class}` : "switch"}>
      <input
        type="checkbox"
        name={props.name}
        checked={props.checked}
        disabled={props.disabled}
        onChange={(e) => props.onToggle(e.currentTarget.checked)}
      />
      <span>
        <strong>{props.label}</strong>
        <br />
        <span class="muted small">{props.description}</span>
      </span>
    </label>
  );
}
