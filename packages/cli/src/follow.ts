import type { Batch, ImapferryClient, Job } from "@imapferry/sdk";
import { EXIT, type ExitCode } from "./exit-codes.ts";
import { exitCodeForStatuses, isActive } from "./outcome.ts";
import { batchCountsText, formatCount, type Output } from "./output.ts";
import { progressLine } from "./progress.ts";

/**
 * Ctrl-C while following stops following, not the work: the jobs go on on the server. The signal
 * aborts the stream so the progress bar can give the terminal its cursor back.
 */
function interruptible(out: Output): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const onInterrupt = () => {
    out.stderr.write("\nStopped following; the jobs go on on the server.\n");
    controller.abort();
  };
  process.once("SIGINT", onInterrupt);
  return { signal: controller.signal, release: () => process.removeListener("SIGINT", onInterrupt) };
}

export interface FollowedJobs {
  jobs: Job[];
  exitCode: ExitCode;
}

/** Follows jobs live (jobs.events) until none is queued, running or waiting. */
export async function followJobs(client: ImapferryClient, ids: number[], out: Output): Promise<FollowedJobs> {
  const jobs = new Map<number, Job>();
  const single = ids.length === 1;
  const line = progressLine(out, single ? `job ${ids[0]}` : `${ids.length} jobs`);
  const show = () => {
    if (single) {
      const job = jobs.get(ids[0] as number);
      if (!job) return;
      const p = job.progress;
      const where = p?.folder ? `, ${p.folder}` : "";
      line.update(p ? p.copied + p.skipped : 0, p?.total ?? null, `${job.status}${where}`);
    } else {
      const ended = [...jobs.values()].filter((j) => !isActive(j.status)).length;
      line.update(ended, ids.length, statusCountsText(jobs.values()));
    }
  };
  const done = () => jobs.size === ids.length && [...jobs.values()].every((j) => !isActive(j.status));
  const { signal, release } = interruptible(out);
  try {
    for await (const event of client.watchJobs({ jobIds: ids, signal })) {
      if (event.type === "resync") {
        // Live from here on: (re)reading now cannot miss a change.
        for (const job of await Promise.all(ids.map((id) => client.jobs.get.query({ id }))))
          jobs.set(job.id, job);
      } else if (event.type === "job") {
        const known = jobs.get(event.jobId);
        if (!known) continue;
        if (isActive(event.status))
          jobs.set(event.jobId, {
            ...known,
            status: event.status as Job["status"],
            progress: event.progress,
          });
        // An ended job's statistics and sentence come with the job itself.
        else jobs.set(event.jobId, await client.jobs.get.query({ id: event.jobId }));
      }
      show();
      if (done()) break;
    }
  } catch (e: unknown) {
    if (!signal.aborted) throw e;
  } finally {
    release();
  }
  const list = ids.map((id) => jobs.get(id)).filter((j): j is Job => j !== undefined);
  const exitCode = exitCodeForStatuses(countStatuses(list));
  line.stop(signal.aborted ? undefined : list.map(jobOutcomeLine).join("\n"));
  return { jobs: list, exitCode: signal.aborted ? EXIT.interrupted : exitCode };
}

/** Follows a batch until none of its jobs is queued, running or waiting. */
export async function followBatch(
  client: ImapferryClient,
  batchId: number,
  out: Output,
): Promise<{ batch: Batch; exitCode: ExitCode }> {
  const line = progressLine(out, `batch ${batchId}`);
  const { signal, release } = interruptible(out);
  let batch: Batch | null = null;
  try {
    batch = await client.waitForBatch(batchId, {
      signal,
      onProgress(b) {
        const active = b.counts.queued + b.counts.running + (b.counts.waiting ?? 0);
        line.update(b.total - active, b.total, batchCountsText(b));
      },
    });
  } catch (e: unknown) {
    if (!signal.aborted) throw e;
  } finally {
    release();
  }
  if (!batch) {
    line.stop();
    return { batch: await client.batches.get.query({ id: batchId }), exitCode: EXIT.interrupted };
  }
  line.stop(`Batch ${batch.tag} (${batch.id}) ended: ${batchCountsText(batch)}.`);
  return { batch, exitCode: exitCodeForStatuses(Object.entries(batch.counts)) };
}

function countStatuses(jobs: Iterable<Pick<Job, "status">>): [string, number][] {
  const counts = new Map<string, number>();
  for (const job of jobs) counts.set(job.status, (counts.get(job.status) ?? 0) + 1);
  return [...counts];
}

function statusCountsText(jobs: Iterable<Pick<Job, "status">>): string {
  return countStatuses(jobs)
    .map(([status, n]) => `${status} ${n}`)
    .join(", ");
}

/** "Job 12 (alice → alice) done: copied 480 / 480 messages." plus the sentence when there is one. */
export function jobOutcomeLine(job: Job): string {
  const p = job.progress;
  const copied = p ? `: ${job.dryRun ? "checked" : "copied"} ${formatCount(p.copied, p.total)} messages` : "";
  const sentence = job.errorMessage ? ` ${job.errorMessage}` : "";
  return `Job ${job.id} (${job.name}) ${job.status}${copied}.${sentence}`;
}
