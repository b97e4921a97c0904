import type { ImapferryClient, Job } from "@imapferry/sdk";

/** Generous: the machine is shared and slow; a deadline only turns a hang into a readable failure. */
const DEFAULT_DEADLINE_MS = 300_000;

/**
 * Polls `probe` every 100 ms until it returns something truthy, and returns that; past the deadline
 * it fails naming `what` it waited for.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = DEFAULT_DEADLINE_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The job once its run has ended done, incomplete or failed (as the SDK client sees it). */
export function waitForJobEnd(
  client: ImapferryClient,
  id: number,
  timeoutMs = DEFAULT_DEADLINE_MS,
): Promise<Job> {
  return waitFor(
    `job ${id} to end`,
    async () => {
      const job = await client.jobs.get.query({ id });
      return ["done", "incomplete", "failed"].includes(job.status) ? job : null;
    },
    timeoutMs,
  );
}
