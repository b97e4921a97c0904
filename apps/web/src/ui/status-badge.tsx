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
  awaiting_credentials: "Awaiting credentials",
};

/** The word a person reads for a status ("Awaiting credentials" for awaiting_credentials). */
export function statusLabel(status: string): string {
  return LABELS[status] ?? status;
}

export function StatusBadge(props: { status: string }): JSX.Element {
  return (
    <span class="badge" data-status={props.status}>
      {statusLabel(props.status)}
    </span>
  );
}
