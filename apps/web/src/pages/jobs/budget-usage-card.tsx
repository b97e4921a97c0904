import type { JSX } from "solid-js";
import { createResource, For, Show } from "solid-js";
import { api } from "../../api/client.ts";
import type { JobItem } from "../../api/types.ts";
import { DateTime } from "../../ui/date-time.tsx";

/** "5.2 MB": budgets are in MB of 10^6 bytes, as providers publish them. */
function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toLocaleString("en-US", { maximumFractionDigits: 1 })} MB`;
}

/**
 * The job's source and destination accounts' use of their servers' byte budgets in the current window
 * (used / budget, and when the window resets). Shown when either server sets a budget.
 */
export function BudgetUsageCard(props: { job: JobItem }): JSX.Element {
  // Re-read on each status change: a run that ends has just counted its bytes.
  const [usage] = createResource(
    () => ({ id: props.job.id, status: props.job.status, attempt: props.job.attempt }),
    async function loadBudgetUsage(key) {
      try {
        return await api.jobs.budgetUsage.query({ id: key.id });
      } catch {
        return [];
      }
    },
  );
  const budgeted = () => (usage() ?? []).filter((u) => u.budgetBytes !== null);
  return (
    <Show when={budgeted().length > 0}>
      <div class="card" data-budget-usage>
        <div class="card-head">
          <h2>Provider budgets</h2>
        </div>
        <div class="card-body stack">
          <For each={budgeted()}>
            {(u) => (
              <div data-budget-account={u.side}>
                <div class="row">
                  <strong>{u.side === "source" ? "Download" : "Upload"}</strong>
                  <span class="muted small" style={{ "overflow-wrap": "anywhere" }}>
                    {u.login} on {u.serverName}
                  </span>
                </div>
                <div data-budget-used>
                  {megabytes(u.usedBytes)} of {megabytes(u.budgetBytes ?? 0)} used
                </div>
                <progress
                  class="budget-meter"
                  max={u.budgetBytes ?? 1}
                  value={Math.min(u.usedBytes, u.budgetBytes ?? 0)}
                  aria-label={`${u.side === "source" ? "Download" : "Upload"} budget used`}
                />
                <div class="muted small" data-budget-resets>
                  Resets <DateTime value={u.resetsAt} />
                </div>
              </div>
            )}
          </For>
        </div>
      </div>
    </Show>
  );
}
