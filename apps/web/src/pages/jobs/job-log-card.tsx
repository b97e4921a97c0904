import type { JSX } from "solid-js";
import type { JobItem } from "../../api/types.ts";
import { LogView } from "../../log/log-view.tsx";
import type { JobLog } from "./create-job-log.ts";
import { ACTIVE_STATUSES } from "./job-statuses.ts";

/** The live log of the job, with whether it is still streaming. */
export function JobLogCard(props: { job: JobItem; log: JobLog }): JSX.Element {
  const stateText = () => {
    const state = props.log.state();
    if (state === "error") return "disconnected";
    if (state === "ended") return "complete";
    return ACTIVE_STATUSES.has(props.job.status) ? "live" : "";
  };
  return (
    <div class="card">
      <div class="card-head">
        <h2>Log</h2>
        <span class="muted small" data-log-state={props.log.state()}>
          {stateText()}
        </span>
      </div>
      <LogView
        ref={props.log.attach}
        label={`Log of job ${props.job.id}`}
        emptyText={props.job.status === "queued" ? "Waiting for a worker…" : "No output yet."}
      />
    </div>
  );
}
