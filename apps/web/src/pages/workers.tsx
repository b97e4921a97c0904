import type { JSX } from "solid-js";
import { createResource, onCleanup, Show } from "solid-js";
import { api } from "../api/client.ts";
import type { WorkerItem } from "../api/types.ts";
import { formatBytes } from "../format.ts";
import { noticeSessionLoss } from "../session.ts";
import { DataTable } from "../ui/data-table.tsx";
import { DateTime } from "../ui/date-time.tsx";
import { Icon } from "../ui/icons.tsx";
import { PageHead } from "../ui/page-head.tsx";
import { EmptyState, ResourceStates } from "../ui/states.tsx";

/**
 * Workers report by heartbeat (a row update, not an event), so this page re-reads the list every 15 s
 * while it is open; the job pages themselves are live through jobs.events.
 */
const REFRESH_MS = 15_000;

export function WorkersPage(): JSX.Element {
  const [workers, { refetch }] = createResource(async function loadWorkers(): Promise<WorkerItem[]> {
    try {
      return await api.workers.list.query();
    } catch (e: unknown) {
      noticeSessionLoss(e);
      throw e;
    }
  });
  const timer = window.setInterval(() => void refetch(), REFRESH_MS);
  onCleanup(() => window.clearInterval(timer));

  return (
    <div class="page">
      <PageHead
        title="Workers"
        sub={
          <>
            Processes that run migrations. Start more with <code>imapferry worker</code> on any machine.
          </>
        }
        onRefresh={() => void refetch()}
      />
      <div class="card">
        <ResourceStates
          resource={workers}
          errorTitle="Could not load the workers"
          onRetry={() => void refetch()}
          loadingLabel="Loading workers…"
          empty={workers.latest?.length === 0}
          emptyState={
            <EmptyState
              icon="workers"
              title="No worker has registered"
              text="`imapferry start` runs one in-process; `imapferry worker` adds more. Queued jobs wait until one is up."
            />
          }
        >
          {(list) => (
            <DataTable
              label="Workers"
              rows={list()}
              head={
                <>
                  <th>Host</th>
                  <th>Pool</th>
                  <th>Running</th>
                  <th class="num">Load (1/5/15 min)</th>
                  <th class="num">Memory</th>
                  <th>Last heartbeat</th>
                </>
              }
            >
              {(w) => (
                <tr data-worker-id={w.id}>
                  <td class="cell-main">
                    <div class="row" style={{ "flex-wrap": "nowrap" }}>
                      <span
                        class={`dot ${w.alive ? (w.draining ? "dot-warn" : "dot-ok") : "dot-bad"}`}
                        title={w.alive ? (w.draining ? "Draining" : "Alive") : "Gone"}
                      />
                      <strong>{w.hostname}</strong>
                      <span class="muted small">pid {w.pid}</span>
                    </div>
                    <div class="cell-sub mono">{w.id}</div>
                  </td>
                  <td data-label="Pool">
                    <span class="tag">{w.pool ?? "default"}</span>
                    <Show when={w.draining}>
                      {" "}
                      <span class="tag tag-dry">draining</span>
                    </Show>
                  </td>
                  <td data-label="Running">
                    <div class="meter">
                      <div class="progress" style={{ width: "80px" }}>
                        <span
                          style={{
                            width: `${Math.min(100, (w.running / Math.max(1, w.capacity)) * 100)}%`,
                          }}
                        />
                      </div>
                      <span class="nowrap">
                        {w.running} / {w.capacity}
                      </span>
                    </div>
                  </td>
                  <td data-label="Load" class="num mono">
                    {w.load.length ? w.load.map((n) => n.toFixed(2)).join(" ") : "—"}
                  </td>
                  <td data-label="Memory" class="num">
                    {formatBytes(w.memoryRss)}
                  </td>
                  <td data-label="Heartbeat" class="nowrap">
                    <span class={w.alive ? "" : "muted"}>
                      <DateTime value={w.heartbeatAt} relative />
                    </span>
                    <Show when={w.stoppedAt}>
                      <span class="muted small"> · stopped</span>
                    </Show>
                  </td>
                </tr>
              )}
            </DataTable>
          )}
        </ResourceStates>
      </div>
    </div>
  );
}
