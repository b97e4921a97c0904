import { randomBytes } from "node:crypto";
import type { JobStatus } from "@imapferry/db";
import { createTestDatabase, type TestDatabase } from "@imapferry/db/testing";
import { type Logger, type ServiceContext, silentLogger, systemClock } from "../../src/context.ts";
import { getJob } from "../../src/services/jobs/index.ts";
import type { JobView } from "../../src/services/jobs/job-view.ts";
import { createVault } from "../../src/vault/vault.ts";

export interface JobTestContext {
  ctx: ServiceContext;
  database: TestDatabase;
  /** The vault key in base64, for worker processes that must decrypt what this context encrypted. */
  secretKey: string;
  close(): Promise<void>;
}

/**
 * A fresh migrated database and a vault with a random key: what every job-system test starts from.
 * `log` receives what the services log. @defaultValue silentLogger
 */
export async function createJobTestContext(options: { log?: Logger } = {}): Promise<JobTestContext> {
  const database = await createTestDatabase();
  const key = randomBytes(32);
  const vault = createVault({ keys: { test: key }, currentKeyId: "test" });
  const ctx: ServiceContext = {
    db: database.db,
    pool: database.pool,
    vault,
    log: options.log ?? silentLogger,
    clock: systemClock,
  };
  return {
    ctx,
    database,
    secretKey: key.toString("base64"),
    close: () => database.drop(),
  };
}

/** Polls `check` until it returns a value (not undefined/false) or the deadline passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 250);
  }
}

/** Polls the job until its status is one of `statuses`, and returns it as it then is. */
export function waitForJobStatus(
  ctx: ServiceContext,
  jobId: number,
  statuses: readonly JobStatus[],
  timeoutMs = 120_000,
): Promise<JobView> {
  return waitFor(
    `job ${jobId} to be ${statuses.join(" or ")}`,
    async () => {
      const job = await getJob(ctx, jobId);
      return statuses.includes(job.status) ? job : undefined;
    },
    timeoutMs,
  );
}
