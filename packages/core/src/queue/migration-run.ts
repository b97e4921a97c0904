import os from "node:os";
import type { Database, JobRow, ServerRow } from "@imapferry/db";
import { sql, type Transaction } from "kysely";
import { z } from "zod";
import type { ServiceContext } from "../context.ts";
import { FolderStates } from "../engines/builtin/sync-state.ts";
import type { EngineStateChannel } from "../engines/run-engine.ts";
import { StopAtOnce } from "../engines/run-engine.ts";
import type { ResolvedEngine } from "../engines/select-engine.ts";
import type { MigrationSpec } from "../engines/types.ts";
import type { FolderProof, FolderProofs } from "../engines/verification/folder-proof.ts";
import type { CopyLedgers } from "../engines/verification/ledger-check.ts";
import { errorMessage } from "../errors.ts";
import { DeniedHostError, type HostDenyList } from "../net/deny-hosts.ts";
import { recordAccountUsage } from "../services/budgets/account-usage.ts";
import { storeRotatedGrant } from "../services/jobs/delegated-oauth2.ts";
import { notifyJobsChanged } from "../services/jobs/job-events.ts";
import { createLogWriter } from "../services/logs/log-writer.ts";
import { queueBatchEndCheck, queueJobEndNotification } from "../services/notifications/queue.ts";
import { endpointCredentials, MissingCredentialsError } from "../services/servers/admin-credentials.ts";
import type { Settings } from "../services/settings/schemas.ts";
import { getSettings } from "../services/settings/settings.ts";
import type { MailboxPair, SyncStateWriter } from "../services/sync-state/sync-state-store.ts";
import { createSyncStateWriter, loadSyncState } from "../services/sync-state/sync-state-store.ts";
import { loadFolderProofs, storeFolderProofs } from "../services/sync-state/verified-folders-store.ts";
import { recordJobStatusEvents } from "../services/webhooks/events.ts";
import { recoverInterruptedJobs } from "../services/workers/workers.ts";
import {
  budgetWaitOutcome,
  bytesCopied,
  connectionCap,
  planRunBudget,
  type RunBudget,
  specWithinBudget,
  stoppedAtBudget,
} from "./budget-run.ts";
import {
  decideOutcome,
  needsVerification,
  type Outcome,
  outcomeOfRunError,
  type RunStopReason,
  type VerificationCheck,
} from "./decide-outcome.ts";
import type { EngineRunner, EngineRunResult } from "./engine-run.ts";
import { type FolderPrechecksResult, startFolderPrechecks } from "./folder-prechecks.ts";
import { trackInProcessWaits } from "./in-process-wait.ts";
import { leaseTiming } from "./lease-timing.ts";
import { type RunTokens, resumeAfterStaleToken, startRunTokens } from "./oauth2-run.ts";
import { createProgressTracker, emptyProgress } from "./progress-tracker.ts";
import { enqueueJobs, type MigratePayload, nudgeWorkers, requeueEntry } from "./queue-entries.ts";
import { planRetry, retriedFault, retriesUsedUp, waitingOutcome } from "./retry-policy.ts";
import { WorkerKeyError } from "./worker-key-error.ts";

export type { RunStopReason } from "./decide-outcome.ts";

export interface ActiveRun {
  controller: AbortController;
  reason: RunStopReason | null;
  /** True once this worker holds the job's lease (before that the entry may still be skipped). */
  claimed: boolean;
  /** The attempt this run's queue entry was for. */
  attempt: number;
  /** Settles when the task holding this run has returned (the engine has stopped, the row is final). */
  finished: Promise<void>;
  /**
   * When (performance.now()) the engine must be stopped unless a renewal moves it on: the lease's end,
   * measured from when its last successful renewal was sent, minus the kill margin (see lease-timing.ts).
   */
  stopBy: number;
  /** Ends the engine's in-process wait for a throttling server now, if it is in one ("Resume now"). */
  resumeWait?: () => void;
}

/** Stops a run's engine; a lease about to lapse kills it at once, without the cancel grace. */
export function stopActiveRun(run: ActiveRun, reason: RunStopReason): void {
  if (run.controller.signal.aborted) return;
  run.reason = reason;
  run.controller.abort(reason === "lease" ? new StopAtOnce("lease") : reason);
}

const payloadSchema = z.object({ jobId: z.number().int().positive(), attempt: z.number().int().positive() });

export interface MigrationTaskInput {
  ctx: ServiceContext;
  workerId: string;
  engine: ResolvedEngine;
  engineRunner: EngineRunner;
  preflight: boolean;
  settings: () => Settings;
  active: Map<number, ActiveRun>;
  isDraining: () => boolean;
  payload: unknown;
  queueEntry: { runAt: Date; pool: string | null };
}

type Claim =
  | { kind: "skipped"; reason: string }
  | { kind: "requeued" }
  | { kind: "claimed"; job: JobRow; source: ServerRow; destination: ServerRow };

/**
 * The graphile-worker task for one queue entry. The entry is only a ticket: the job row decides.
 * The claim is atomic (row lock): the job must still be queued for this very attempt, and the source
 * server must have a free slot; then the row takes this worker's id and a lease. An entry handed out a
 * second time (graphile-worker re-hands entries locked for over 4 hours, and a long migration is
 * exactly that) finds the job running under a live lease and does nothing, so no migration ever
 * starts twice.
 */
export async function runMigrationTask(input: MigrationTaskInput): Promise<void> {
  const { ctx } = input;
  const parsed = payloadSchema.safeParse(input.payload);
  if (!parsed.success) {
    ctx.log.error("ignored a migration queue entry with a malformed payload");
    return;
  }
  const payload = parsed.data;
  const current = input.active.get(payload.jobId);
  if (current) {
    if (!current.claimed) {
      // The other entry is still being claimed and may yet be put back (source server full): dropping
      // this one could leave the job queued with no entry at all, waiting forever. Put it back; if the
      // other claim wins, this entry later finds the job running and does nothing.
      await handBackEntry(input, payload);
      return;
    }
    if (payload.attempt <= current.attempt) {
      ctx.log.info("ignored a second queue entry for a job this worker is running", { jobId: payload.jobId });
      return;
    }
    // A newer attempt: our run lost its lease (another worker's recovery requeued the job) and this
    // entry is the job's only ticket. Dropping it would leave the job queued with no entry; stop the
    // stale run, wait for it to let go, then claim the new attempt like any entry.
    stopActiveRun(current, "lost");
    await current.finished;
    // Judge the entry afresh: another entry may have been taken meanwhile.
    return runMigrationTask(input);
  }
  if (input.isDraining()) {
    // Picked up just as draining began: put it back where it was for another worker.
    await handBackEntry(input, payload);
    return;
  }
  let markFinished = () => {};
  const run: ActiveRun = {
    controller: new AbortController(),
    reason: null,
    claimed: false,
    attempt: payload.attempt,
    finished: new Promise<void>((resolve) => (markFinished = resolve)),
    stopBy: Number.POSITIVE_INFINITY,
  };
  // Registered before the claim, so a cancel NOTIFY arriving right after the claim commits is not lost.
  input.active.set(payload.jobId, run);
  try {
    // The claim's lease runs from the database's now() inside the claim, which is after this moment.
    const claimSentAt = performance.now();
    const timing = leaseTiming(input.settings().leaseSeconds);
    const claim = await claimJob(input, payload);
    if (claim.kind === "skipped") {
      ctx.log.info("queue entry not run", { jobId: payload.jobId, reason: claim.reason });
      return;
    }
    if (claim.kind === "requeued") return;
    run.stopBy = claimSentAt + timing.leaseMs - timing.killMarginMs;
    run.claimed = true;
    await executeRun(input, run, claim.job, claim.source, claim.destination);
  } finally {
    if (input.active.get(payload.jobId) === run) input.active.delete(payload.jobId);
    markFinished();
  }
}

async function handBackEntry(input: MigrationTaskInput, payload: MigratePayload): Promise<void> {
  const job = await input.ctx.db
    .selectFrom("jobs")
    .select(["priority", "source_server_id", "status", "attempt"])
    .where("id", "=", payload.jobId)
    .executeTakeFirst();
  if ((job?.status !== "queued" && job?.status !== "waiting") || job.attempt !== payload.attempt) return;
  await requeueEntry(
    input.ctx.db,
    payload,
    input.queueEntry.runAt,
    input.queueEntry.pool,
    job.priority,
    job.source_server_id,
  );
}

async function claimJob(input: MigrationTaskInput, payload: MigratePayload): Promise<Claim> {
  const { ctx, workerId } = input;
  const settings = input.settings();
  return ctx.db.transaction().execute(async (trx): Promise<Claim> => {
    const job = await trx
      .selectFrom("jobs")
      .selectAll()
      .where("id", "=", payload.jobId)
      .forUpdate()
      .executeTakeFirst();
    if (!job) return { kind: "skipped", reason: "the job no longer exists" };
    if (job.deleted_at) return { kind: "skipped", reason: "the job was deleted" };
    // A waiting job's entry runs at its resume time: it is claimed like a queued one.
    if (job.status !== "queued" && job.status !== "waiting")
      return { kind: "skipped", reason: `the job is ${job.status}` };
    if (job.attempt !== payload.attempt)
      return {
        kind: "skipped",
        reason: `the entry is for attempt ${payload.attempt}, the job is at ${job.attempt}`,
      };
    const source = await trx
      .selectFrom("servers")
      .selectAll()
      .where("id", "=", job.source_server_id)
      .executeTakeFirstOrThrow();
    // Claims for the same source host take turns (a transaction lock on the host name), so two workers
    // can never both take its last slot, even through two server entries that name the same host.
    await sql`select pg_advisory_xact_lock(hashtext(${"imapferry:source-host:"} || lower(${source.host})))`.execute(
      trx,
    );
    const destination = await trx
      .selectFrom("servers")
      .selectAll()
      .where("id", "=", job.dest_server_id)
      .executeTakeFirstOrThrow();
    // The limit is the source server entry's own; what counts against it is every migration from its host.
    const limit = source.source_host_limit ?? settings.defaultSourceHostLimit;
    const usage = await sql<{ n: string }>`
      select count(*) as n from jobs j join servers s on s.id = j.source_server_id
      where j.status = 'running' and lower(s.host) = lower(${source.host})`.execute(trx);
    const running = Number(usage.rows[0]?.n ?? 0);
    if (running >= limit || (await olderClaimInFlight(trx, job, input.queueEntry.runAt))) {
      // Lost the race for the last slot, or an entry ahead in line is being claimed this very moment:
      // back in line, in its place; workers skip it until a slot frees.
      await requeueEntry(trx, payload, input.queueEntry.runAt, job.pool, job.priority, job.source_server_id);
      return { kind: "requeued" };
    }
    const claimed = await trx
      .updateTable("jobs")
      .set({
        status: "running",
        worker_id: workerId,
        lease_expires_at: sql<Date>`now() + make_interval(secs => ${settings.leaseSeconds})`,
        // The wall clock, not now(): now() is when this transaction began, possibly before it waited
        // for the server lock while another run was still holding the slot.
        started_at: sql<Date>`clock_timestamp()`,
        finished_at: null,
        progress: JSON.stringify(emptyProgress()),
        stats: sql`null`,
        verification: null,
        exit_code: null,
        error_category: null,
        error_message: null,
        // Running now: a resume time left from the wait before would read as an in-process wait.
        resume_at: null,
      })
      .where("id", "=", job.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await notifyJobsChanged(trx, [job.id]);
    return { kind: "claimed", job: claimed, source, destination };
  });
}

/**
 * Whether a job ahead of this one in line (higher priority, or equal and queued earlier) for the same
 * source host is being claimed right now. Workers take entries in queue order but their claims race
 * for the server's lock; yielding keeps first in, first out. Only fresh locks count: an entry locked
 * long ago belongs to a worker that died before claiming (recovery re-queues it), and must not hold up
 * the line.
 */
async function olderClaimInFlight(trx: Transaction<Database>, job: JobRow, runAt: Date): Promise<boolean> {
  const ahead = await sql<{ id: number }>`
    select o.id from jobs o
    join servers os on os.id = o.source_server_id
    join graphile_worker.jobs g on g.key = ${"imapferry:job:"} || o.id
    where lower(os.host) = (select lower(host) from servers where id = ${job.source_server_id})
      and o.status = 'queued' and o.id <> ${job.id}
      and g.locked_at > now() - interval '5 seconds'
      and (o.priority > ${job.priority} or (o.priority = ${job.priority} and g.run_at < ${runAt}))
    limit 1`.execute(trx);
  return ahead.rows.length > 0;
}

function buildSpec(
  ctx: ServiceContext,
  job: JobRow,
  source: ServerRow,
  destination: ServerRow,
): MigrationSpec {
  return {
    source: {
      host: source.host,
      port: source.port,
      security: source.security,
      acceptSelfSigned: source.accept_self_signed,
      ...endpointCredentials(
        ctx.vault,
        "source",
        source,
        job.source_email,
        job.source_secret,
        job.source_oauth2,
      ),
    },
    destination: {
      host: destination.host,
      port: destination.port,
      security: destination.security,
      acceptSelfSigned: destination.accept_self_signed,
      ...endpointCredentials(
        ctx.vault,
        "destination",
        destination,
        job.dest_email,
        job.dest_secret,
        job.dest_oauth2,
      ),
    },
    dryRun: job.dry_run,
    options: job.options ?? {},
  };
}

/** Throws DeniedHostError when the source or the destination host is on IMAPFERRY_DENY_HOSTS. */
async function assertHostsAllowed(denyHosts: HostDenyList | undefined, spec: MigrationSpec): Promise<void> {
  if (!denyHosts) return;
  for (const side of ["source", "destination"] as const) {
    if (await denyHosts.deniesHost(spec[side].host)) throw new DeniedHostError(side);
  }
}

async function executeRun(
  input: MigrationTaskInput,
  run: ActiveRun,
  job: JobRow,
  source: ServerRow,
  destination: ServerRow,
): Promise<void> {
  const { ctx, workerId } = input;
  const fence = { workerId, attempt: job.attempt };
  const started = Date.now();
  const stopLost = () => stopActiveRun(run, "lost");
  const logError = (e: unknown) =>
    ctx.log.warn("job write failed; retrying", {
      jobId: job.id,
      error: errorMessage(e),
    });
  const writer = createLogWriter({ db: ctx.db, jobId: job.id, fence, onLost: stopLost, onError: logError });
  const tracker = createProgressTracker({
    db: ctx.db,
    jobId: job.id,
    batchId: job.batch_id,
    fence,
    onError: logError,
  });
  const waits = trackInProcessWaits({ db: ctx.db, jobId: job.id, fence, onError: logError });
  const engineName = `${input.engine.kind}${input.engine.version ? ` ${input.engine.version}` : ""}`;
  writer.write(
    `[imapferry] ${new Date().toISOString()} attempt ${job.attempt} on ${os.hostname()} (worker ${workerId}), engine ${engineName}${job.dry_run ? ", dry run" : ""}\n`,
  );

  let outcome: Outcome;
  let tokens: RunTokens | null = null;
  // Read afresh: the job page computes the window from the stored setting, and so must the run.
  const settingsNow = await getSettings(ctx).catch(() => input.settings());
  const windowSeconds = settingsNow.budgetWindowSeconds;
  try {
    let spec: MigrationSpec;
    try {
      spec = {
        ...buildSpec(ctx, job, source, destination),
        // The engine's waits and reconnections spend the job's automatic retries too.
        retriesLeft: Math.max(0, settingsNow.retryMaxAttempts - job.auto_retries),
        // Dry runs too: a server's connection cap holds for every login.
        maxConnections: connectionCap(settingsNow.connectionsPerAccount, source, destination),
      };
    } catch (e: unknown) {
      if (e instanceof MissingCredentialsError) throw e;
      // A worker without the key the credentials were encrypted with (a key rotation not rolled out
      // to every machine) must say so, not blame the mailbox.
      throw new WorkerKeyError(os.hostname(), errorMessage(e));
    }
    // One gate before anything connects (the pre-flight, the engine, the check after it): a job to a
    // denied host fails without a packet sent there.
    await assertHostsAllowed(ctx.denyHosts, spec);
    // OAuth2 sides: a first access token each, kept fresh in a file for as long as this run lasts.
    tokens = await startRunTokens(
      spec,
      (line) => writer.write(`${line}\n`),
      run.controller.signal,
      (side, grant) => storeRotatedGrant(ctx, job.id, fence, side, grant),
    ).catch((e: unknown) => {
      // Stopped while asking for a first token: the run ends as stopped (the engine never starts).
      if (run.controller.signal.aborted) return null;
      throw e;
    });
    if (tokens) spec = tokens.spec;
    // The servers' per-account budgets: a run starts only with budget left, and stops at it.
    const budget: RunBudget | null = job.dry_run
      ? null
      : await planRunBudget(ctx, job, source, destination, windowSeconds);
    if (budget) spec = specWithinBudget(spec, budget);
    const names = { source: source.name, destination: destination.name };
    if (budget?.remaining.bytes === 0) {
      // Nothing left in this window: the engine does not start at all.
      throw new BudgetSpent(budgetWaitOutcome(budget, job, names, windowSeconds));
    }
    let result: EngineRunResult | null = null;
    let counted: Promise<void> = Promise.resolve();
    if (input.preflight && input.engineRunner.preflight && !run.controller.signal.aborted) {
      // Totals for the progress bar. A failure here is not the run's failure: the engine reports
      // connection problems itself, with the right exit code.
      const counting = input.engineRunner.preflight(spec, run.controller.signal).then(
        (totals) => {
          if (totals) tracker.setTotals(totals);
        },
        (e: unknown) => {
          writer.write(`[imapferry] pre-flight count skipped: ${errorMessage(e)}\n`);
        },
      );
      // imapsync holds one connection per side: with room for a second source connection the count
      // runs beside it (it spends its first second logging in and listing anyway) instead of before
      // it. The built-in engine opens every connection it may, so it waits for the count.
      if (input.engine.kind === "imapsync" && (spec.maxConnections ?? 1) >= 2) counted = counting;
      else await counting;
    }
    // A claim answered late (a slow or frozen connection) may already be past its deadline: the engine
    // must not start at all then.
    if (performance.now() >= run.stopBy) stopActiveRun(run, "lease");
    const cannotCopy = { "without identity": 0, "over maxMessageBytes": 0, "under minMessageBytes": 0 };
    let ledgers: FolderStates | undefined;
    let prechecked: FolderPrechecksResult | undefined;
    if (!run.controller.signal.aborted) {
      // Beside imapsync's one connection per side, with room for one more: the folders it has left
      // are checked while it copies the next (see folder-prechecks.ts).
      const openCheck = input.engineRunner.openCheck?.bind(input.engineRunner);
      const prechecks =
        input.engine.kind === "imapsync" && !job.dry_run && openCheck && (spec.maxConnections ?? 1) >= 2
          ? startFolderPrechecks({
              runner: { openCheck },
              spec,
              signal: run.controller.signal,
              ready: counted,
            })
          : null;
      const syncState =
        input.engine.kind === "builtin" && !job.dry_run ? await openSyncState(ctx, job) : null;
      ledgers = syncState?.states;
      try {
        result = await input.engineRunner.run({
          spec,
          signal: run.controller.signal,
          onLine: (line) => {
            writer.write(`${line}\n`);
            waits.onLine(line);
          },
          onEvent: (event) => {
            tracker.onEvent(event);
            prechecks?.onEvent(event);
            if (event.type === "message" && event.action === "skipped") {
              cannotCopy[SKIP_REASONS[event.reason]] += 1;
            }
          },
          ...(syncState ? { stateChannel: syncState.channel } : {}),
          onSpawn: (pid) => {
            // Only the built-in engine waits in process, and it ends its waits on SIGUSR2 (whose
            // default action would kill any other program, hence the check that it is waiting).
            run.resumeWait = () => {
              if (waits.waiting) process.kill(pid, "SIGUSR2");
            };
          },
        });
      } finally {
        await syncState?.writer.close();
        prechecked = await prechecks?.finish();
      }
      if (prechecked?.checked) {
        writer.write(
          `[imapferry] checked ${prechecked.checked} folders while the engine copied the next ones\n`,
        );
      }
      await counted;
      if (result.stats) result.stats.cannotCopy = cannotCopy;
      result = resumeAfterStaleToken(input.engine.kind, result, tokens);
    }
    if (run.reason === null && stoppedAtBudget(result, budget) && budget && result) {
      // Stopped at the budget, not done: the check would only find what the next windows copy.
      throw new BudgetSpent(
        budgetWaitOutcome(budget, job, names, windowSeconds, {
          exitCode: result.exitCode,
          stats: result.stats,
        }),
      );
    }
    const check =
      !job.dry_run && input.engineRunner.verify && needsVerification(result, run.reason)
        ? await verifyRun(input.engineRunner, spec, result, run.controller.signal, writer, {
            ctx,
            job,
            ledgers,
            prechecked: prechecked?.proofs ?? [],
          })
        : null;
    outcome = decideOutcome(result, run.reason, check, job.dry_run);
  } catch (e: unknown) {
    if (e instanceof BudgetSpent) {
      outcome = e.outcome;
    } else {
      outcome = outcomeOfRunError(e);
      writer.write(`[imapferry] ${outcome.sentence}\n`);
    }
  } finally {
    await tokens?.close();
  }

  await waits.settle();
  tracker.close();
  if (run.reason === "lost" || run.reason === "lease" || run.reason === "handback") {
    // No outcome is written for this run, but what it copied went over the wire all the same: it
    // counts against the accounts' daily budgets now, or a restart would let a job copy past them.
    const copied = Math.max(bytesCopied(outcome.stats), tracker.progress.bytesCopied);
    await recordAccountUsage(ctx.db, job, copied, windowSeconds).catch(logError);
  }
  if (run.reason === "lost") {
    // Another worker owns the job now (this one missed its heartbeats): write nothing more.
    await writer.close();
    ctx.log.warn("stopped a migration whose lease another worker took over", { jobId: job.id, workerId });
    return;
  }
  if (run.reason === "lease") {
    await handBackUnrenewedRun(input, job, writer);
    return;
  }
  if (run.reason === "handback") {
    await tracker.flush();
    writer.write(
      `[imapferry] ${new Date().toISOString()} worker ${workerId} is stopping; handing the migration back.\n`,
    );
    await writer.close();
    await recoverInterruptedJobs(ctx, input.settings(), {
      workerId,
      jobIds: [job.id],
      sentence: `The worker on ${os.hostname()} was stopped during attempt ${job.attempt} and handed the migration back.`,
    });
    return;
  }
  // The retry policy as stored now (an operator's change applies to the next run that ends), or as
  // the worker last read it when the database cannot answer.
  const policy = outcome.passing ? await getSettings(ctx).catch(() => input.settings()) : input.settings();
  // The built-in engine announces each retry it spends as it goes; imapsync reconnects by itself
  // (Mail::IMAPClient's Reconnectretry) and only says how often in its statistics.
  const engineRetries =
    input.engine.kind === "imapsync" ? imapsyncReconnections(outcome.stats) : waits.retriesSpent;
  const retriesSoFar = job.auto_retries + engineRetries;
  const retry = outcome.status === "waiting" ? null : planRetry(outcome, retriesSoFar, policy);
  if (retry) outcome = waitingOutcome(outcome, retry, policy.retryMaxAttempts);
  else if (retriedFault(outcome, policy)) outcome = retriesUsedUp(outcome, retriesSoFar);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  writer.write(
    `[imapferry] ${new Date().toISOString()} ${outcome.status}${outcome.exitCode !== null ? ` (exit ${outcome.exitCode})` : ""} after ${seconds} s${outcome.sentence ? `: ${outcome.sentence}` : ""}\n`,
  );
  await writer.close();
  await finishJob(
    input,
    { ...job, auto_retries: retriesSoFar },
    fence,
    outcome,
    tracker.progress,
    windowSeconds,
  );
}

function imapsyncReconnections(stats: Record<string, unknown> | null | undefined): number {
  const count = (value: unknown) => (typeof value === "number" && value > 0 ? value : 0);
  return count(stats?.reconnectionsToSource) + count(stats?.reconnectionsToDestination);
}

/**
 * The worker could not renew the lease in time and killed the engine. If the database is back and the
 * job still ours, hand it back at once to be resumed (by anyone); otherwise others recover it once its
 * lease has lapsed. Either way this run writes no outcome.
 */
async function handBackUnrenewedRun(
  input: MigrationTaskInput,
  job: JobRow,
  writer: ReturnType<typeof createLogWriter>,
): Promise<void> {
  const { ctx, workerId } = input;
  const sentence = `The worker on ${os.hostname()} could not renew its lease on the database during attempt ${job.attempt}; it stopped the engine before the lease could run out.`;
  ctx.log.warn("stopped a migration whose lease could not be renewed", { jobId: job.id, workerId });
  writer.write(`[imapferry] ${new Date().toISOString()} ${sentence}\n`);
  await writer.close();
  try {
    await recoverInterruptedJobs(ctx, input.settings(), { workerId, jobIds: [job.id], sentence });
  } catch (e: unknown) {
    ctx.log.warn("could not hand back a migration; it is resumed once its lease lapses", {
      jobId: job.id,
      error: errorMessage(e),
    });
  }
}

function mailboxPair(job: JobRow): MailboxPair {
  return {
    sourceServerId: job.source_server_id,
    sourceLogin: job.source_email,
    destServerId: job.dest_server_id,
    destLogin: job.dest_email,
  };
}

/**
 * The job's mailbox pair's incremental sync state for the built-in engine: what the last run stored,
 * and a writer that stores what this run reports, in batches. The state is advisory, so a database
 * that cannot give it means a run without it (every folder compared in full), not a failed run.
 */
async function openSyncState(
  ctx: ServiceContext,
  job: JobRow,
): Promise<{ channel: EngineStateChannel; writer: SyncStateWriter; states: FolderStates } | null> {
  const pair = mailboxPair(job);
  const stored = await loadSyncState(ctx.db, pair).catch((e: unknown) => {
    ctx.log.warn("could not read the incremental sync state; comparing every folder in full", {
      jobId: job.id,
      error: errorMessage(e),
    });
    return null;
  });
  if (stored === null) return null;
  const writer = createSyncStateWriter({
    db: ctx.db,
    pair,
    jobId: job.id,
    onError: (e: unknown) =>
      ctx.log.warn(
        "could not store the incremental sync state; the next run compares those folders in full",
        {
          jobId: job.id,
          error: errorMessage(e),
        },
      ),
  });
  // The states as the run leaves them, for the check after it (see ledger-check.ts).
  const states = new FolderStates(stored);
  const channel: EngineStateChannel = {
    initial: JSON.stringify(stored),
    onUpdate(update) {
      writer.add(update);
      states.apply(update);
    },
  };
  return { channel, writer, states };
}

/** Which "cannot be copied" group each engine skip reason counts in. */
const SKIP_REASONS = {
  noheader: "without identity",
  maxsize: "over maxMessageBytes",
  minsize: "under minMessageBytes",
} as const;

/** Runs the check after a real run, saying in the log what it found; never throws. */
async function verifyRun(
  runner: EngineRunner,
  spec: MigrationSpec,
  result: EngineRunResult | null,
  signal: AbortSignal,
  writer: { write(text: string): void },
  owner: {
    ctx: ServiceContext;
    job: JobRow;
    ledgers: CopyLedgers | undefined;
    /** Proofs of the folders checked while the engine ran (see folder-prechecks.ts). */
    prechecked: FolderProof[];
  },
): Promise<VerificationCheck> {
  writer.write(`[imapferry] ${new Date().toISOString()} checking the destination against the source\n`);
  try {
    const errorLines = Array.isArray(result?.stats?.errorLines) ? (result.stats.errorLines as string[]) : [];
    const pair = mailboxPair(owner.job);
    // Proofs of earlier checks only ever save reading: without them every folder is read.
    const stored = await loadFolderProofs(owner.ctx.db, pair).catch(() => undefined);
    const proofs = stored && withProofs(stored, owner.prechecked);
    const verification = await (runner.verify as NonNullable<EngineRunner["verify"]>)(spec, {
      errorLines,
      signal,
      ...(proofs ? { proofs } : {}),
      ...(owner.ledgers ? { ledgers: owner.ledgers } : {}),
    });
    if (proofs) {
      await storeFolderProofs(owner.ctx.db, pair, proofs.toStore()).catch((e: unknown) =>
        owner.ctx.log.warn("could not store the check's folder proofs", {
          jobId: owner.job.id,
          error: errorMessage(e),
        }),
      );
    }
    const notes = [
      verification.unchangedFolders
        ? `${verification.unchangedFolders} unchanged since a check that found them complete`
        : "",
      verification.provenByCopies
        ? `${verification.provenByCopies} proven by the UIDs the destination gave this run's copies`
        : "",
    ].filter(Boolean);
    const unchanged = notes.length > 0 ? ` (${notes.join("; ")})` : "";
    writer.write(
      `[imapferry] checked ${verification.folders.length} folders${unchanged} in ${(verification.durationMs / 1000).toFixed(1)} s: ${verification.sourceMessages} messages on the source, ${verification.destMessages} on the destination, ${verification.missing} missing\n`,
    );
    return { verification };
  } catch (e: unknown) {
    const reason = errorMessage(e);
    writer.write(`[imapferry] the check failed: ${reason}\n`);
    return { error: `could not run (${reason})` };
  }
}

/**
 * Stored proofs with those of this run's checks while the engine ran in front: the check looks these
 * up first, and what it stores is both, a folder the check read again keeping its newer proof.
 */
function withProofs(
  stored: FolderProofs & { recorded: FolderProof[] },
  prechecked: FolderProof[],
): FolderProofs & { toStore(): FolderProof[] } {
  const pairKey = (source: string, destination: string) => JSON.stringify([source, destination]);
  const early = new Map(prechecked.map((p) => [pairKey(p.result.folder, p.result.destinationFolder), p]));
  return {
    lookup: (source, destination) =>
      early.get(pairKey(source, destination)) ?? stored.lookup(source, destination),
    record: (proof) => stored.record(proof),
    toStore() {
      const latest = new Map(early);
      for (const p of stored.recorded) latest.set(pairKey(p.result.folder, p.result.destinationFolder), p);
      return [...latest.values()];
    },
  };
}

async function finishJob(
  input: MigrationTaskInput,
  job: JobRow,
  fence: { workerId: string; attempt: number },
  outcome: Outcome,
  progress: unknown,
  windowSeconds: number,
): Promise<void> {
  // An outcome that is never written costs a whole run again (the lease lapses, the job is resumed),
  // and giving up here would fail graphile-worker's own bookkeeping too, in the same outage. So wait
  // for the database as long as it takes: the fence makes a late write harmless (it changes nothing
  // once another worker took the job over).
  for (let failures = 0; ; failures++) {
    try {
      await writeOutcome(input, job, fence, outcome, progress, windowSeconds);
      if (failures > 0)
        input.ctx.log.info("recorded a job's outcome after the database came back", { jobId: job.id });
      return;
    } catch (e: unknown) {
      // Logged at the 1st, 2nd, 4th, 8th… failure: an outage of an hour is a dozen lines, not thousands.
      if ((failures & (failures - 1)) === 0) {
        input.ctx.log.warn("could not record a job's outcome; waiting for the database", {
          jobId: job.id,
          failures: failures + 1,
          error: errorMessage(e),
        });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** failures, 5000)));
    }
  }
}

async function writeOutcome(
  input: MigrationTaskInput,
  job: JobRow,
  fence: { workerId: string; attempt: number },
  outcome: Outcome,
  progress: unknown,
  windowSeconds: number,
): Promise<void> {
  const { ctx } = input;
  await ctx.db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable("jobs")
      .set({
        status: outcome.status,
        exit_code: outcome.exitCode,
        error_category: outcome.category,
        error_message: outcome.sentence,
        stats: outcome.stats === null ? sql`null` : JSON.stringify(outcome.stats),
        verification: outcome.verification ? JSON.stringify(outcome.verification) : null,
        progress: JSON.stringify(progress),
        finished_at: sql<Date>`now()`,
        lease_expires_at: null,
        // Waiting: the next attempt is queued now, to run at resume_at (its entry's run_at).
        auto_retries: job.auto_retries + (outcome.retry && outcome.retry.counted !== false ? 1 : 0),
        ...(outcome.retry
          ? {
              attempt: job.attempt + 1,
              resume_at: outcome.retry.resumeAt
                ? outcome.retry.resumeAt
                : sql<Date>`now() + make_interval(secs => ${outcome.retry.waitMs / 1000})`,
            }
          : { resume_at: null }),
      })
      .where("id", "=", job.id)
      .where("worker_id", "=", fence.workerId)
      .where("attempt", "=", fence.attempt)
      .where("status", "=", "running")
      .returning("id")
      .executeTakeFirst();
    if (!updated) return;
    // What the run copied counts against both accounts' budgets, with the outcome or not at all.
    await recordAccountUsage(trx, job, bytesCopied(outcome.stats), windowSeconds);
    if (outcome.retry) await enqueueJobs(trx, { jobIds: [job.id] }, { atResumeTime: true });
    // In the same transaction as the status: the notification exists exactly when the outcome does.
    else if (outcome.status === "done" || outcome.status === "incomplete" || outcome.status === "failed")
      await queueJobEndNotification(trx, job.id);
    // A cancelled job sends no email of its own, but it may be the last of its batch to end.
    else if (job.batch_id !== null) await queueBatchEndCheck(trx, job.batch_id);
    // Webhooks (job.ended, job.waiting, then batch.ended) likewise, in the transaction of the status.
    await recordJobStatusEvents(trx, [job.id]);
    await notifyJobsChanged(trx, [job.id], { includeProgress: true });
    // A source-server slot just freed up: wake idle workers so a job waiting for it starts now.
    await nudgeWorkers(trx);
  });
}

/** Thrown inside a run to end it as a budget wait (see budget-run.ts): not a failure. */
class BudgetSpent extends Error {
  override readonly name = "BudgetSpent";
  constructor(readonly outcome: Outcome) {
    super(outcome.sentence ?? "budget spent");
  }
}
