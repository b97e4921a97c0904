import type { JSX } from "solid-js";
import { Match, Show, Switch } from "solid-js";
import type { JobItem } from "../../api/types.ts";
import { formatCount } from "../../format.ts";
import { JobProgressBar } from "../../ui/job-progress.tsx";

/**
 * Running jobs get a live bar with the ETA; a finished dry run says what a real run would copy (its
 * counters are not progress); other jobs keep the bar of how far they got.
 */
export function ProgressCell(props: { job: JobItem }): JSX.Element {
  const wouldCopy = () => {
    const value = props.job.stats?.messagesWouldTransfer;
    return typeof value === "number" ? value : null;
  };
  return (
    <Switch fallback={<span class="muted">—</span>}>
      <Match when={props.job.status === "running"}>
        <JobProgressBar progress={props.job.progress} running startedAt={props.job.startedAt} />
      </Match>
      <Match when={props.job.dryRun && props.job.status === "done" && wouldCopy() !== null}>
        <span class="small">
          Would copy <strong>{formatCount(wouldCopy())}</strong>
          <Show when={props.job.progress?.total}>
            {(total) => <span class="muted"> of {formatCount(total())}</span>}
          </Show>
        </span>
      </Match>
      <Match when={props.job.progress?.total}>
        <JobProgressBar progress={props.job.progress} running={false} />
      </Match>
    </Switch>
  );
}
