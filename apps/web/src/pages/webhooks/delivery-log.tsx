import type { JSX } from "solid-js";
import { createEffect, createResource, For, on, onCleanup, Show } from "solid-js";
import { api } from "../../api/client.ts";
import type { WebhookDeliveryItem, WebhookDeliveryPage } from "../../api/types.ts";
import { noticeSessionLoss } from "../../session.ts";
import { DataTable } from "../../ui/data-table.tsx";
import { DateTime } from "../../ui/date-time.tsx";
import { EmptyState, errorText, ResourceStates } from "../../ui/states.tsx";
import { toast } from "../../ui/toasts.tsx";
import { DeliveryStatus } from "./delivery-status.tsx";

/**
 * How often an open delivery log is read again. Deliveries and retries happen in the worker, with no
 * live stream of their own; a log someone is looking at is the only one read, and only while open.
 */
const REFRESH_MS = 2000;

/** One endpoint's delivery log, newest first: each delivery's attempts, and Redeliver. */
export function DeliveryLog(props: {
  endpointId: number;
  url: string;
  onClose: () => void;
  /** Called when the newest delivery or its status changed, so the list's "Last delivery" follows. */
  onNewest: () => void;
}): JSX.Element {
  const [page, { refetch }] = createResource(
    () => props.endpointId,
    async function loadDeliveries(id): Promise<WebhookDeliveryPage> {
      try {
        return await api.webhooks.deliveries.query({ id, limit: 50 });
      } catch (e: unknown) {
        noticeSessionLoss(e);
        throw e;
      }
    },
  );
  const timer = setInterval(() => {
    if (!page.loading) void refetch();
  }, REFRESH_MS);
  onCleanup(() => clearInterval(timer));
  createEffect(
    on(
      () => {
        const newest = page.latest?.items[0];
        return newest ? `${newest.id}:${newest.status}` : "";
      },
      (newest, before) => {
        if (before !== undefined && newest !== before) props.onNewest();
      },
    ),
  );

  async function redeliver(delivery: WebhookDeliveryItem): Promise<void> {
    try {
      await api.webhooks.redeliver.mutate({ deliveryId: delivery.id });
      toast("success", "Redelivery queued", `Delivery ${delivery.id} (${delivery.eventType})`);
      void refetch();
    } catch (e: unknown) {
      toast("error", "Could not redeliver", errorText(e));
    }
  }

  return (
    <section class="card" aria-label="Delivery log">
      <div class="card-head">
        <h2>Delivery log</h2>
        <span class="muted small mono" style={{ "overflow-wrap": "anywhere" }}>
          {props.url}
        </span>
        <button type="button" class="btn btn-sm btn-ghost" onClick={props.onClose}>
          Close
        </button>
      </div>
      <ResourceStates
        resource={page}
        errorTitle="Could not load the delivery log"
        onRetry={() => void refetch()}
        loadingLabel="Loading deliveries…"
        empty={page.latest?.items.length === 0}
        emptyState={
          <EmptyState
            icon="inbox"
            title="No delivery yet"
            text="Deliveries appear here when an event this endpoint listens for happens, or after Send ping."
          />
        }
      >
        {(loaded) => (
          <DataTable
            label="Webhook deliveries"
            rows={loaded().items}
            head={
              <>
                <th>Delivery</th>
                <th>Status</th>
                <th>Attempts</th>
                <th>Last answer</th>
                <th class="actions">
                  <span class="sr-only">Actions</span>
                </th>
              </>
            }
          >
            {(delivery) => (
              <tr data-delivery-id={delivery.id}>
                <td class="cell-main">
                  <strong class="mono">{delivery.eventType}</strong>
                  <div class="cell-sub">
                    #{delivery.id} · {delivery.eventId} · <DateTime value={delivery.createdAt} />
                  </div>
                </td>
                <td data-label="Status">
                  <DeliveryStatus status={delivery.status} />
                  <Show when={delivery.status === "pending" && delivery.nextAttemptAt}>
                    {(at) => (
                      <div class="cell-sub">
                        next attempt <DateTime value={at()} relative />
                      </div>
                    )}
                  </Show>
                </td>
                <td data-label="Attempts">
                  <ol
                    style={{ "list-style": "none", margin: 0, padding: 0 }}
                    aria-label={`Attempts of delivery ${delivery.id}`}
                  >
                    <For each={delivery.attemptLog}>
                      {(attempt) => (
                        <li data-attempt={attempt.number}>
                          <span class={attempt.ok ? "tag" : "tag tag-dry"}>
                            {attempt.statusCode ?? "no answer"}
                          </span>{" "}
                          <span class="muted small">
                            {attempt.responseMs} ms
                            {attempt.redelivery ? " · redelivery" : ""} · <DateTime value={attempt.at} />
                          </span>
                        </li>
                      )}
                    </For>
                  </ol>
                </td>
                <td data-label="Last answer">
                  <Show
                    when={delivery.lastError}
                    fallback={
                      <span class="muted">
                        {delivery.attempts === 0
                          ? "not sent yet"
                          : `${delivery.lastStatusCode ?? ""} delivered`}
                      </span>
                    }
                  >
                    <span class="small" style={{ color: "var(--red-700)" }}>
                      {delivery.lastError}
                    </span>
                  </Show>
                </td>
                <td class="actions">
                  <button type="button" class="btn btn-sm" onClick={() => void redeliver(delivery)}>
                    Redeliver
                  </button>
                </td>
              </tr>
            )}
          </DataTable>
        )}
      </ResourceStates>
    </section>
  );
}
