import type { JSX } from "solid-js";
import { createResource, createSignal, Match, Show, Switch } from "solid-js";
import { api } from "../../api/client.ts";
import type { JobItem } from "../../api/types.ts";
import { Icon } from "../../ui/icons.tsx";
import { BatchPlanCard, PlanForm } from "./batch-plan.tsx";

/**
 * A single job's delta passes. A job outside any batch can be given a plan (it then runs in a batch of
 * its own, "job-<id>", whose plan card shows here); a job that is one of several mailboxes of a batch is
 * planned on the batch's page.
 */
export function JobPlanCard(props: { job: JobItem; onChanged: () => void }): JSX.Element {
  const [batch, { refetch }] = createResource(
    () => (props.job.batchId === null ? null : { id: props.job.batchId, status: props.job.status }),
    async ({ id }) => api.batches.get.query({ id }),
  );
  const [planning, setPlanning] = createSignal(false);
  return (
    <Show when={!props.job.dryRun}>
      <Switch>
        <Match when={props.job.batchId === null}>
          <div class="card batch-plan" data-job-plan>
            <div class="batch-plan-main">
              <strong>Delta passes</strong>
              <span class="muted small">
                Keep this mailbox in step until the cutover, with a pass on a schedule.
              </span>
            </div>
            <button type="button" class="btn btn-sm" data-plan-create onClick={() => setPlanning(true)}>
              <Icon name="plus" /> Plan delta passes
            </button>
            <Show when={planning()}>
              <PlanForm
                label={`job ${props.job.id}`}
                scope="job"
                plan={null}
                save={(values) => api.jobs.plan.set.mutate({ ...values, jobId: props.job.id })}
                onClose={() => setPlanning(false)}
                onSaved={props.onChanged}
              />
            </Show>
          </div>
        </Match>
        <Match when={batch()?.total === 1 ? batch() : undefined}>
          {(own) => (
            <BatchPlanCard
              batch={own()}
              onChanged={() => {
                void refetch();
                props.onChanged();
              }}
            />
          )}
        </Match>
      </Switch>
    </Show>
  );
}
