import type { JSX } from "solid-js";
import { Show } from "solid-js";
import type { JobItem } from "../../api/types.ts";
import { JobProgressBar } from "../../ui/job-progress.tsx";

/**
 * How far the job got: the bar, the folder it is in and its rate; for a finished dry run, what a real
 * run would do ("Would copy 42, 6 already there, 0 cannot be copied.").
 */
export function JobProgressCard(props: { job: JobItem }): JSX.Element {
  const progress = () => props.job.progress;
  return (
    <div class="card">
      <div class="card-head">
        <h2>Progress</h2>
        <span class="muted small">
          <Show when={progress()?.folder}>
            {(folder) => (
              <>
                Folder <span class="mono">{folder()}</span>
                <Show when={progress()?.folderCount}>
                  {" "}
                  ({progress()?.folderIndex ?? "?"}/{progress()?.folderCount})
                </Show>
              </>
            )}
          </Show>
        </span>
      </div>
      <div class="card-body">
        <JobProgressBar
          progress={progress()}
          running={props.job.status === "running"}
          startedAt={props.job.startedAt}
        />
        <Show when={props.job.dryRun && props.job.status === "done" && props.job.errorMessage}>
          {(sentence) => (
            <p class="small" style={{ "margin-top": "6px" }} data-dry-run-sentence>
              {sentence()}
            </p>
          )}
        </Show>
        <Show when={progress()?.msgsPerSecond}>
          {(rate) => (
            <p class="muted small" style={{ "margin-top": "6px" }}>
              {rate().toFixed(1)} messages/s
            </p>
          )}
        </Show>
      </div>
    </div>
  );
}
