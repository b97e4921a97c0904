import type { JSX } from "solid-js";
import { createResource, For, Show } from "solid-js";
import { api } from "../../api/client.ts";
import type { JobItem } from "../../api/types.ts";
import { Link } from "../../router.tsx";
import { DateTime } from "../../ui/date-time.tsx";
import { StatusBadge } from "../../ui/status-badge.tsx";

/**
 * The runs this job replaced (earlier runs of its mailbox in the batch, the job it reran), newest
 * first; nothing when it is the first run. History stays one click away from the latest run.
 */
export function PreviousRunsCard(props: { job: JobItem }): JSX.Element {
  // Re-read when the job is another one or ends: a rerun made from this page changes nothing here,
  // but another job of the pair created meanwhile might.
  const [runs] = createResource(
    () => ({ id: props.job.id, status: props.job.status }),
    async function loadPreviousRuns(key) {
      try {
        return await api.jobs.previousRuns.query({ id: key.id });
      } catch {
        return [];
      }
    },
  );
  return (
    <Show when={(runs() ?? []).length > 0}>
      <div class="card" data-previous-runs>
        <div class="card-head">
          <h2>Previous runs</h2>
        </div>
        <div class="card-body">
          <ul class="stack" style={{ "list-style": "none", padding: 0, margin: 0 }}>
            <For each={runs()}>
              {(run) => (
                <li class="row" data-previous-run={run.id}>
                  <Link href={`/jobs/${run.id}`}>#{run.id}</Link>
                  <StatusBadge status={run.status} />
                  <Show when={run.dryRun}>
                    <span class="tag tag-dry">dry run</span>
                  </Show>
                  <span class="muted small">
                    <DateTime value={run.finishedAt ?? run.createdAt} />
                  </span>
                </li>
              )}
            </For>
          </ul>
        </div>
      </div>
    </Show>
  );
}
