import type { Accessor, JSX } from "solid-js";
import { For } from "solid-js";

export interface DataTableProps<T> {
  /** The table's accessible name (browser tests and screen readers find tables by it). */
  label: string;
  /** The header cells (`<th>`s); the header row around them is added here. */
  head: JSX.Element;
  rows: readonly T[];
  /** Renders one `<tr>`. */
  children: (row: T, index: Accessor<number>) => JSX.Element;
  /** Sets aria-busy while the rows are being refreshed; absent leaves the attribute off. */
  busy?: boolean;
  /**
   * Whether rows turn into stacked cards on narrow screens (`.table.responsive`, which reads each
   * cell's `data-label`). @defaultValue true
   */
  responsive?: boolean;
  /** The class of the scrolling wrapper. @defaultValue "table-wrap" */
  wrapClass?: string;
}

/** A table of records: a header row and one row per item, in the wrapper that scrolls it sideways. */
export function DataTable<T>(props: DataTableProps<T>): JSX.Element {
  return (
    <div class={props.wrapClass ?? "table-wrap"}>
      <table
        class={props.responsive === false ? "table" : "table responsive"}
        aria-label={props.label}
        aria-busy={props.busy}
      >
        <thead>
          <tr>{props.head}</tr>
        </thead>
        <tbody>
          <For each={props.rows}>{(row, index) => props.children(row, index)}</For>
        </tbody>
      </table>
    </div>
  );
}
