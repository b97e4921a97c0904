import type { JSX } from "solid-js";
import { createSignal, onCleanup, Show } from "solid-js";
import type { JobItem } from "../../api/types.ts";
import { formatDuration } from "../../format.ts";
import { Link } from "../../router.tsx";
import { Icon } from "../../ui/icons.tsx";
import { LoadStates } from "../../ui/states.tsx";
import { StatusBadge } from "../../ui/status-badge.tsx";
import { NotFound } from "../not-found.tsx";
import { BudgetUsageCard } from "./budget-usage-card.tsx";
import { createJobLog } from "./create-job-log.ts";
import { createLiveJob } from "./create-live-job.ts";
import { JobActions } from "./job-actions.tsx";
import { JobFactsCard } from "./job-facts-card.tsx";
import { JobLogCard } from "./job-log-card.tsx";
import { JobPlanCard } from "./job-plan-card.tsx";
import { JobProgressCard } from "./job-progress-card.tsx";
import { JobStatsCard } from "./job-stats-card.tsx";
import { JobVerificationCard } from "./job-verification-card.tsx";
import { OwnerLinkCard } from "./owner-link-card.tsx";
import { PreviousRunsCard } from "./previous-runs-card.tsx";

export function JobDetailPage(props: { params: Record<string, string> }): JSX.Element {
  return (
    <Show
      when={Number(props.params.id)}
      keyed
      fallback={
        <div class="page">
          <NotFound
            title="There is no job at this address"
            text="A job's address ends in its number, such as /jobs/12."
            back={{ href: "/jobs", label: "Back to the jobs" }}
          />
        </div>
      }
    >
      {(id) => <JobDetail id={id} />}
    </Show>
  );
}

function JobDetail(props: { id: number }): JSX.Element {
  const { job, loaded, missing, refetch } = createLiveJob(props.id);
  const log = createJobLog(props.id);

  return (
    <div class="page">
      <Show
        when={!missing()}
        fallback={
          <NotFound
            title={`Job #${props.id} does not exist`}
            text="It may have been deleted for good, or the address is mistyped."
            back={{ href: "/jobs", label: "Back to the jobs" }}
          />
        }
      >
        <LoadStates
          failed={job.error && !loaded()}
          error={job.error}
          errorTitle="Could not load this job"
          onRetry={refetch}
          loading={!loaded()}
          loadingLabel="Loading the job…"
          ready={loaded()}
        >
          {(j) => (
            <>
              <div class="page-head">
                <JobHeading job={j()} />
                <JobActions job={j()} onChanged={refetch} />
              </div>
              <JobErrorSentence job={j()} />
              <div class="grid-3">
                <div class="stack">
                  <Show when={j().status === "running" || j().progress?.total}>
                    <JobProgressCard job={j()} />
                  </Show>
                  <JobVerificationCard job={j()} />
                  <JobLogCard job={j()} log={log} />
                </div>
                <div class="stack">
                  <OwnerLinkCard job={j()} onChanged={refetch} />
                  <JobPlanCard job={j()} onChanged={refetch} />
                  <JobStatsCard job={j()} />
                  <BudgetUsageCard job={j()} />
                  <JobFactsCard job={j()} logBytes={log.bytes()} />
                  <PreviousRunsCard job={j()} />
                </div>
              </div>
            </>
          )}
        </LoadStates>
      </Show>
    </div>
  );
}

/** Where the job sits (breadcrumb), its name, status and the two mailboxes. */
function JobHeading(props: { job: JobItem }): JSX.Element {
  const j = () => props.job;
  return (
    <div style={{ "min-width": 0 }}>
      <div class="breadcrumb">
        <Link href="/jobs">Jobs</Link>
        <Show when={j().batchId !== null}>
          {" / "}
          <Link href={`/jobs?batch=${j().batchId}`}>{j().batchTag ?? `batch ${j().batchId}`}</Link>
        </Show>
        {" / "}#{j().id}
      </div>
      <div class="row">
        <h1 style={{ "overflow-wrap": "anywhere" }}>{j().name || j().sourceEmail}</h1>
        <StatusBadge status={j().status} />
        <Show when={j().dryRun}>
          <span class="tag tag-dry">dry run</span>
        </Show>
      </div>
      <p class="sub">
        {j().sourceEmail}{" "}
        <span class="muted">on {j().sourceServerName ?? `server ${j().sourceServerId}`}</span> →{" "}
        {j().destEmail} <span class="muted">on {j().destServerName ?? `server ${j().destServerId}`}</span>
      </p>
    </div>
  );
}

/** Why a failed or interrupted job stopped, as one sentence. */
function JobErrorSentence(props: { job: JobItem }): JSX.Element {
  const j = () => props.job;
  return (
    <Show
      when={
        // A wait spent in the engine's process (a short suggested backoff) has no sentence yet.
        j().status === "waiting" ||
        (j().errorMessage &&
          (j().status === "failed" || j().status === "interrupted" || j().status === "incomplete"))
      }
    >
      <div class="error-sentence" role="alert">
        <Icon name="alert" class="icon-18" />
        <div>
          <strong>
            {j().status === "failed"
              ? "The migration failed"
              : j().status === "incomplete"
                ? "Not every message is on the destination"
                : j().status === "waiting"
                  ? "Waiting to resume by itself"
                  : "The migration was interrupted"}
          </strong>
          <Show when={j().status === "waiting" && j().resumeAt}>{(at) => <ResumeCountdown at={at()} />}</Show>
          <span data-error-sentence>{j().errorMessage}</span>
          <Show when={j().errorCategory}>
            <span class="muted small"> ({j().errorCategory})</span>
          </Show>
        </div>
      </div>
    </Show>
  );
}

/** "in 1m 12s", counting down to a waiting job's resume time, then "any moment now". */
function ResumeCountdown(props: { at: string }): JSX.Element {
  const [now, setNow] = createSignal(Date.now());
  const timer = window.setInterval(() => setNow(Date.now()), 1000);
  onCleanup(() => window.clearInterval(timer));
  const left = () => (new Date(props.at).getTime() - now()) / 1000;
  return (
    <span class="muted" data-resume-countdown>
      {" "}
      {left() > 0 ? `in ${formatDuration(left())}` : "any moment now"}.{" "}
    </span>
  );
}
