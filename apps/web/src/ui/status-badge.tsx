import type { JSX } from "solid-js";

const LABELS: Record<string, string> = {
  queued: "Queued",
  running: "Running",
  waiting: "Waiting",
  done: "Done",
  incomplete: "Incomplete",
  failed: "Failed",
  cancelled: "Cancelled",
  interrupted: "Interrupted",
};

export function StatusBadge(props: { status: string }): JSX.Element {
  return (
    <span class="badge" data-status={props.status}>
      {LABELS[props.status] ?? props.status}
    </span>
  );
}
