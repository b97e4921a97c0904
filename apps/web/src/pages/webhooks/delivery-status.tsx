import type { JSX } from "solid-js";

const STATUS_LABELS = { pending: "Pending", delivered: "Delivered", failed: "Failed" } as const;
/** The job badge colours that mean the same: queued (still going), done, failed. */
const STATUS_COLOURS = { pending: "queued", delivered: "done", failed: "failed" } as const;

export function DeliveryStatus(props: { status: keyof typeof STATUS_LABELS }): JSX.Element {
  return (
    <span class="badge" data-status={STATUS_COLOURS[props.status]} data-delivery-status={props.status}>
      {STATUS_LABELS[props.status]}
    </span>
  );
}
