import type { JSX } from "solid-js";
import { createSignal } from "solid-js";
import type { JobItem } from "../../api/types.ts";
import { isEngineNoise } from "../../log/engine-noise.ts";
import { LogView } from "../../log/log-view.tsx";
import type { JobLog } from "./create-job-log.ts";
import { ACTIVE_STATUSES } from "./job-statuses.ts";

/** The live log of the job, with whether it is still streaming and a switch for the engine's notes. */
export function JobLogCard(props: { job: JobItem; log: JobLog }): JSX.Element {
  // imapsync's advice to its own users and the worker's host details are noise to a person watching
  // a migration: hidden unless asked for (the download keeps them).
  const [showAll, setShowAll] = createSignal(false);
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
        <div class="row">
          <span class="muted small" data-log-state={props.log.state()}>
            {stateText()}
          </span>
          <button
            type="button"
            class="btn btn-sm btn-ghost"
            aria-pressed={showAll()}
            title="The engine's advice and host lines are hidden here; the downloaded log has every line."
            onClick={() => setShowAll(!showAll())}
          >
            {showAll() ? "Hide engine notes" : "Show all lines"}
          </button>
        </div>
      </div>
      <LogView
        ref={props.log.attach}
        label={`Log of job ${props.job.id}`}
        emptyText={props.job.status === "queued" ? "Waiting for a worker…" : "No output yet."}
        hideLine={showAll() ? undefined : isEngineNoise}
      />
    </div>
  );
}
