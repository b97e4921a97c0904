import type { JSX } from "solid-js";
import { createResource, createSignal, Show } from "solid-js";
import { api } from "../../api/client.ts";
import type { ServerItem } from "../../api/types.ts";
import { noticeSessionLoss } from "../../session.ts";
import { ConfirmDialog } from "../../ui/confirm.tsx";
import { DataTable } from "../../ui/data-table.tsx";
import { DateTime } from "../../ui/date-time.tsx";
import { Icon } from "../../ui/icons.tsx";
import { EmptyState, errorText, LoadStates } from "../../ui/states.tsx";
import { toast } from "../../ui/toasts.tsx";
import { ServerFormModal } from "./server-form.tsx";
import { ServerTestModal } from "./server-test.tsx";

const SECURITY_LABELS: Record<string, string> = {
  tls: "TLS",
  starttls: "STARTTLS",
  none: "None (plain text)",
};

export function securityLabel(security: string): string {
  return SECURITY_LABELS[security] ?? security;
}

export function ServersPage(): JSX.Element {
  const [servers, { refetch }] = createResource(async function loadServers(): Promise<ServerItem[]> {
    try {
      return await api.servers.list.query();
    } catch (e: unknown) {
      noticeSessionLoss(e);
      throw e;
    }
  });
  const [editing, setEditing] = createSignal<ServerItem | "new" | null>(null);
  const [testing, setTesting] = createSignal<ServerItem | null>(null);
  const [deleting, setDeleting] = createSignal<ServerItem | null>(null);

  async function deleteServer(server: ServerItem): Promise<void> {
    try {
      await api.servers.delete.mutate({ id: server.id });
      toast("success", "Server deleted", server.name);
      void refetch();
    } catch (e: unknown) {
      toast("error", "Could not delete the server", errorText(e));
      throw e;
    }
  }

  return (
    <div class="page">
      <div class="page-head">
        <div>
          <h1>Servers</h1>
          <p class="sub">
            IMAP servers jobs copy from and to. Credentials belong to each job, not to the server.
          </p>
        </div>
        <div class="page-actions">
          <button type="button" class="btn btn-primary" onClick={() => setEditing("new")}>
            <Icon name="plus" /> Add server
          </button>
        </div>
      </div>

      <div class="card">
        <LoadStates
          failed={servers.error}
          error={servers.error}
          errorTitle="Could not load the servers"
          onRetry={() => void refetch()}
          loading={servers.loading && !servers.latest}
          loadingLabel="Loading servers…"
          empty={servers()?.length === 0}
          emptyState={
            <EmptyState
              icon="servers"
              title="No servers yet"
              text="Add the source and destination IMAP servers, then create jobs between them."
              action={
                <button type="button" class="btn btn-primary" onClick={() => setEditing("new")}>
                  <Icon name="plus" /> Add server
                </button>
              }
            />
          }
          ready={servers()}
        >
          {(list) => (
            <DataTable
              label="Servers"
              rows={list()}
              head={
                <>
                  <th>Name</th>
                  <th>Host</th>
                  <th>Security</th>
                  <th class="num">Source limit</th>
                  <th>Updated</th>
                  <th class="actions">
                    <span class="sr-only">Actions</span>
                  </th>
                </>
              }
            >
              {(server) => (
                <tr data-server={server.name}>
                  <td class="cell-main">
                    <strong>{server.name}</strong>
                  </td>
                  <td data-label="Host" class="mono">
                    {server.host}:{server.port}
                  </td>
                  <td data-label="Security">
                    <span class="row" style={{ gap: "6px", "flex-wrap": "nowrap" }}>
                      <span class="tag">{securityLabel(server.security)}</span>
                      <Show when={server.acceptSelfSigned}>
                        <span class="tag tag-dry" title="Self-signed certificates are accepted">
                          self-signed OK
                        </span>
                      </Show>
                    </span>
                  </td>
                  <td data-label="Source limit" class="num">
                    {server.sourceHostLimit ?? <span class="muted">default</span>}
                  </td>
                  <td data-label="Updated" class="nowrap muted">
                    <DateTime value={server.updatedAt} />
                  </td>
                  <td class="actions">
                    <div class="row" style={{ "justify-content": "flex-end", "flex-wrap": "nowrap" }}>
                      <button type="button" class="btn btn-sm" onClick={() => setTesting(server)}>
                        <Icon name="plug" /> Test connection
                      </button>
                      <button
                        type="button"
                        class="btn btn-sm btn-icon"
                        aria-label={`Edit ${server.name}`}
                        onClick={() => setEditing(server)}
                      >
                        <Icon name="edit" />
                      </button>
                      <button
                        type="button"
                        class="btn btn-sm btn-icon btn-danger"
                        aria-label={`Delete ${server.name}`}
                        onClick={() => setDeleting(server)}
                      >
                        <Icon name="trash" />
                      </button>
                    </div>
                  </td>
                </tr>
              )}
            </DataTable>
          )}
        </LoadStates>
      </div>

      <Show when={editing()}>
        {(target) => (
          <ServerFormModal
            server={target() === "new" ? null : (target() as ServerItem)}
            onClose={() => setEditing(null)}
            onSaved={() => void refetch()}
          />
        )}
      </Show>
      <Show when={testing()}>
        {(server) => <ServerTestModal server={server()} onClose={() => setTesting(null)} />}
      </Show>
      <Show when={deleting()}>
        {(server) => (
          <ConfirmDialog
            title="Delete server?"
            danger
            confirmLabel="Delete server"
            message={
              <p>
                <strong>{server().name}</strong> ({server().host}) will be removed. A server that jobs still
                refer to cannot be deleted.
              </p>
            }
            onConfirm={() => deleteServer(server())}
            onClose={() => setDeleting(null)}
          />
        )}
      </Show>
    </div>
  );
}
