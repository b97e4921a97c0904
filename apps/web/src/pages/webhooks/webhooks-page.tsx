import type { JSX } from "solid-js";
import { createResource, createSignal, For, Show } from "solid-js";
import { api } from "../../api/client.ts";
import type { WebhookItem } from "../../api/types.ts";
import { noticeSessionLoss } from "../../session.ts";
import { ConfirmDialog } from "../../ui/confirm.tsx";
import { DataTable } from "../../ui/data-table.tsx";
import { DateTime } from "../../ui/date-time.tsx";
import { PageHead } from "../../ui/page-head.tsx";
import { EmptyState, errorText, ResourceStates } from "../../ui/states.tsx";
import { toast } from "../../ui/toasts.tsx";
import { DeliveryLog } from "./delivery-log.tsx";
import { DeliveryStatus } from "./delivery-status.tsx";
import { EVENT_LABELS } from "./event-labels.ts";
import { NewWebhookCard } from "./new-webhook-card.tsx";

/**
 * Signed webhooks: where imapferry tells a hosting panel that a job, a batch or a plan's cutover has
 * ended. Endpoints are listed without their secrets (shown once, at creation); each has its delivery
 * log with a Redeliver button. Admins only; the server refuses anyone else.
 */
export function WebhooksPage(): JSX.Element {
  const [endpoints, { refetch }] = createResource(async function loadWebhooks(): Promise<WebhookItem[]> {
    try {
      return await api.webhooks.list.query();
    } catch (e: unknown) {
      noticeSessionLoss(e);
      throw e;
    }
  });
  const [selected, setSelected] = createSignal<number | null>(null);
  const [deleting, setDeleting] = createSignal<WebhookItem | null>(null);
  const selectedEndpoint = () => endpoints.latest?.find((e) => e.id === selected()) ?? null;

  async function setEnabled(endpoint: WebhookItem, enabled: boolean): Promise<void> {
    try {
      await api.webhooks.update.mutate({ id: endpoint.id, enabled });
      toast("success", enabled ? "Endpoint enabled" : "Endpoint disabled", endpoint.url);
      void refetch();
    } catch (e: unknown) {
      toast("error", "Could not change the endpoint", errorText(e));
    }
  }

  async function ping(endpoint: WebhookItem): Promise<void> {
    try {
      await api.webhooks.ping.mutate({ id: endpoint.id });
      toast("success", "Ping sent", "It shows in the delivery log.");
      setSelected(endpoint.id);
    } catch (e: unknown) {
      toast("error", "Could not send the ping", errorText(e));
    }
  }

  async function remove(endpoint: WebhookItem): Promise<void> {
    try {
      await api.webhooks.delete.mutate({ id: endpoint.id });
      toast("success", "Endpoint deleted", endpoint.url);
      if (selected() === endpoint.id) setSelected(null);
      void refetch();
    } catch (e: unknown) {
      toast("error", "Could not delete the endpoint", errorText(e));
      throw e;
    }
  }

  return (
    <div class="page">
      <PageHead
        title="Webhooks"
        sub="Signed HTTP requests to your panel when a job ends or waits, a batch ends or a plan cuts over."
        onRefresh={() => void refetch()}
      />
      <NewWebhookCard onCreated={() => void refetch()} />
      <div class="card">
        <div class="card-head">
          <h2>Endpoints</h2>
        </div>
        <ResourceStates
          resource={endpoints}
          errorTitle="Could not load the webhook endpoints"
          onRetry={() => void refetch()}
          loadingLabel="Loading endpoints…"
          empty={endpoints.latest?.length === 0}
          emptyState={
            <EmptyState
              icon="bell"
              title="No endpoint yet"
              text="Add the URL of your panel's receiver above."
            />
          }
        >
          {(rows) => (
            <DataTable
              label="Webhook endpoints"
              rows={rows()}
              head={
                <>
                  <th>URL</th>
                  <th>Events</th>
                  <th>Tenant</th>
                  <th>Last delivery</th>
                  <th class="actions">
                    <span class="sr-only">Actions</span>
                  </th>
                </>
              }
            >
              {(endpoint) => (
                <tr data-webhook-id={endpoint.id} aria-selected={selected() === endpoint.id}>
                  <td class="cell-main">
                    <strong class="mono" style={{ "overflow-wrap": "anywhere" }}>
                      {endpoint.url}
                    </strong>
                    <div class="cell-sub">
                      <Show when={endpoint.description}>{endpoint.description} · </Show>
                      {endpoint.enabled ? "enabled" : "disabled"}
                    </div>
                  </td>
                  <td data-label="Events">
                    <div class="row" style={{ gap: "4px" }}>
                      <For each={endpoint.eventTypes}>
                        {(type) => (
                          <span class="tag" title={EVENT_LABELS[type]}>
                            {type}
                          </span>
                        )}
                      </For>
                    </div>
                  </td>
                  <td data-label="Tenant" class="muted">
                    {endpoint.tenant ?? "all"}
                  </td>
                  <td data-label="Last delivery" class="nowrap">
                    <Show when={endpoint.lastDelivery} fallback={<span class="muted">none yet</span>}>
                      {(last) => (
                        <>
                          <DeliveryStatus status={last().status} /> <DateTime value={last().at} relative />
                        </>
                      )}
                    </Show>
                  </td>
                  <td class="actions">
                    <div
                      class="row"
                      style={{ gap: "6px", "justify-content": "flex-end", "flex-wrap": "nowrap" }}
                    >
                      <button type="button" class="btn btn-sm" onClick={() => setSelected(endpoint.id)}>
                        Deliveries
                      </button>
                      <button type="button" class="btn btn-sm btn-ghost" onClick={() => void ping(endpoint)}>
                        Send ping
                      </button>
                      <button
                        type="button"
                        class="btn btn-sm btn-ghost"
                        onClick={() => void setEnabled(endpoint, !endpoint.enabled)}
                      >
                        {endpoint.enabled ? "Disable" : "Enable"}
                      </button>
                      <button
                        type="button"
                        class="btn btn-sm btn-danger"
                        onClick={() => setDeleting(endpoint)}
                      >
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              )}
            </DataTable>
          )}
        </ResourceStates>
      </div>
      {/* Keyed by id: a refreshed list (new objects) must not remount the open log. */}
      <Show when={selected()} keyed>
        {(id) => (
          <DeliveryLog
            endpointId={id}
            url={selectedEndpoint()?.url ?? ""}
            onClose={() => setSelected(null)}
            onNewest={() => void refetch()}
          />
        )}
      </Show>
      <Show when={deleting()}>
        {(endpoint) => (
          <ConfirmDialog
            title="Delete this endpoint?"
            danger
            confirmLabel="Delete"
            message={
              <p>
                <strong>{endpoint().url}</strong> gets no more deliveries, and its delivery log is deleted.
              </p>
            }
            onConfirm={() => remove(endpoint())}
            onClose={() => setDeleting(null)}
          />
        )}
      </Show>
    </div>
  );
}
