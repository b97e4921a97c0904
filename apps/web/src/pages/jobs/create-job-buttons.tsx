import type { JSX } from "solid-js";
import { Icon } from "../../ui/icons.tsx";

/** The two ways to add jobs, offered in the page head and again by the empty list. */
export function CreateJobButtons(props: { onImport: () => void; onNew: () => void }): JSX.Element {
  return (
    <>
      <button type="button" class="btn" onClick={() => props.onImport()}>
        <Icon name="upload" /> Import CSV
      </button>
      <button type="button" class="btn btn-primary" onClick={() => props.onNew()}>
        <Icon name="plus" /> New job
      </button>
    </>
  );
}
