import type { JSX } from "solid-js";
import { createResource, createSignal, Show } from "solid-js";
import { api } from "../api/client.ts";
import type { AuditEventItem, AuditList } from "../api/types.ts";
import { noticeSessionLoss } from "../session.ts";
import { DataTable } from "../ui/data-table.tsx";
import { DateTime } from "../ui/date-time.tsx";
import { Icon } from "../ui/icons.tsx";
import { PageHead } from "../ui/page-head.tsx";
import { EmptyState, ResourceStates } from "../ui/states.tsx";

/** What the filter form asks for; empty fields filter nothing. */
interface AuditFilter {
  action: string;
  outcome: string;
  tenant: string;
  cursor: string | null;
}

/**
 * Every change made through the API or the panel, newest first: who (a person or a token), what,
 * when, from where and how it ended. Admins only; the server refuses anyone else.
 */
export function AuditPage(): JSX.Element {
  const [filter, setFilter] = createSignal<AuditFilter>({
    action: "",
    outcome: "",
    tenant: "",
    cursor: null,
  });
  /** Cursors of the pages before this one, for Previous. */
  const [previous, setPrevious] = createSignal<(string | null)[]>([]);
  const [events, { refetch }] = createResource(filter, async function loadAudit(f): Promise<AuditList> {
    try {
      return await api.audit.list.query({
        limit: 50,
        ...(f.action.trim() ? { action: f.action.trim() } : {}),
        ...(f.outcome.trim() ? { outcome: f.outcome.trim() } : {}),
        ...(f.tenant.trim() ? { tenant: f.tenant.trim() } : {}),
        ...(f.cursor ? { cursor: f.cursor } : {}),
      });
    } catch (e: unknown) {
      noticeSessionLoss(e);
      throw e;
    }
  });

  function applyFilter(event: SubmitEvent): void {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setPrevious([]);
    setFilter({
      action: String(form.get("action") ?? ""),
      outcome: String(form.get("outcome") ?? ""),
      tenant: String(form.get("tenant") ?? ""),
      cursor: null,
    });
  }

  function next(cursor: string): void {
    setPrevious([...previous(), filter().cursor]);
    setFilter({ ...filter(), cursor });
  }

  function back(): void {
    const stack = previous();
    setPrevious(stack.slice(0, -1));
    setFilter({ ...filter(), cursor: stack[stack.length - 1] ?? null });
  }

  return (
    <div class="page">
      <PageHead
        title="Audit log"
        sub="Every change, by whom, from where and how it ended. Passwords and tokens are never kept."
        onRefresh={() => void refetch()}
      />
      <div class="card">
        <form class="toolbar" onSubmit={applyFilter} aria-label="Filter the audit log">
          <input
            class="input search"
            name="action"
            aria-label="Action"
            placeholder="Action, e.g. jobs. or jobs.cancel"
          />
          <input
            class="input search"
            name="outcome"
            aria-label="Outcome"
            placeholder="Outcome, e.g. ok or FORBIDDEN"
          />
          <input class="input search" name="tenant" aria-label="Tenant" placeholder="Tenant" />
          <button type="submit" class="btn">
            <Icon name="search" /> Filter
          </button>
        </form>
        <ResourceStates
          resource={events}
          errorTitle="Could not load the audit log"
          onRetry={() => void refetch()}
          loadingLabel="Loading the audit log…"
          empty={events.latest?.items.length === 0}
          emptyState={
            <EmptyState icon="file" title="Nothing recorded" text="No change matches this filter." />
          }
        >
          {(page) => (
            <>
              <DataTable label="Audit log" rows={page().items} head={<AuditHead />}>
                {(event) => <AuditRow event={event} />}
              </DataTable>
              <div class="row" style={{ padding: "12px" }}>
                <button type="button" class="btn btn-sm" disabled={previous().length === 0} onClick={back}>
                  Previous
                </button>
                <button
                  type="button"
                  class="btn btn-sm"
                  disabled={!page().nextCursor}
                  onClick={() => next(page().nextCursor ?? "")}
                >
                  Next
                </button>
              </div>
            </>
          )}
        </ResourceStates>
      </div>
    </div>
  );
}

function AuditHead(): JSX.Element {
  return (
    <>
      <th>When</th>
      <th>Who</th>
      <th>Action</th>
      <th>Target</th>
      <th>Outcome</th>
      <th>From</th>
    </>
  );
}

function AuditRow(props: { event: AuditEventItem }): JSX.Element {
  const e = () => props.event;
  return (
    <tr data-audit-id={e().id}>
      <td data-label="When" class="nowrap">
        <DateTime value={e().at} />
      </td>
      <td data-label="Who" class="cell-main">
        <strong>{e().username ?? "someone"}</strong>
        <div class="cell-sub">
          {e().method === "token"
            ? `token ${e().tokenPrefix ?? ""}…`
            : e().method === "session"
              ? "panel"
              : "logging in"}
          <Show when={e().callerTenant}> · tenant {e().callerTenant}</Show>
        </div>
      </td>
      <td data-label="Action" class="mono">
        {e().action}
      </td>
      <td data-label="Target">
        <Show when={e().targetType} fallback="—">
          {e().targetType} {e().targetId ?? ""}
        </Show>
        <Show when={e().tenant}>
          <div class="cell-sub">tenant {e().tenant}</div>
        </Show>
      </td>
      <td data-label="Outcome">
        <span class={e().outcome === "ok" ? "tag" : "tag tag-dry"}>{e().outcome}</span>
      </td>
      <td data-label="From" class="mono muted">
        {e().ip ?? "—"}
      </td>
    </tr>
  );
}
