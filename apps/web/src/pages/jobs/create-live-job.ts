import type { Resource } from "solid-js";
import { createResource, onCleanup } from "solid-js";
import { api } from "../../api/client.ts";
import { isNotFound } from "../../api/errors.ts";
import type { JobItem } from "../../api/types.ts";
import { navigate } from "../../router.tsx";
import { noticeSessionLoss } from "../../session.ts";
import { toast } from "../../ui/toasts.tsx";
import { subscribeJobEvents } from "./subscribe-job-events.ts";

export interface LiveJob {
  job: Resource<JobItem>;
  /** The job as last loaded; undefined until it is, and when loading failed. */
  loaded: () => JobItem | undefined;
  /** Whether the server said there is no such job. */
  missing: () => boolean;
  refetch: () => void;
}

/**
 * One job, kept live for its page: progress arrives in place; a status change re-reads the job
 * (timestamps, statistics, error); a deleted job sends the person back to the list.
 */
export function createLiveJob(id: number): LiveJob {
  const [job, { refetch, mutate }] = createResource(
    () => id,
    async function loadJob(jobId): Promise<JobItem> {
      try {
        return await api.jobs.get.query({ id: jobId });
      } catch (e: unknown) {
        noticeSessionLoss(e);
        throw e;
      }
    },
  );

  const stopEvents = subscribeJobEvents({
    jobId: id,
    onEvent(event) {
      const current = loaded();
      if (!current) return;
      if (event.status === "deleted") {
        toast("info", "This job was deleted");
        navigate("/jobs");
        return;
      }
      if (event.progress) mutate({ ...current, progress: event.progress });
      if (event.status !== current.status) void refetch();
    },
    onResync: () => void refetch(),
  });
  onCleanup(stopEvents);

  // `job.latest` rethrows the load's error: read it only when there is none.
  function loaded(): JobItem | undefined {
    return job.error ? undefined : job.latest;
  }
  return { job, loaded, missing: () => isNotFound(job.error), refetch: () => void refetch() };
}
