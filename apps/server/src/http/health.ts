import type { NotificationConfig, PoolLiveness, ServiceContext, Settings } from "@imapferry/core";
import { countLiveWorkers, getSettings, notificationStatus } from "@imapferry/core";
import { type BoundedDatabase, openBoundedDatabase } from "@imapferry/db";

/**
 * The database probe's hard deadline: past it the database counts as unreachable, whatever the
 * network does. Load balancers give a health check a second or two; the answer must come before.
 */
export const PROBE_DEADLINE_MS = 800;
/** A probe that answered but took longer than this says the database is slow (degraded, still 200). */
const SLOW_PROBE_MS = 500;
/** A probe this recent is reused: a flood of /healthz must not become a flood of database queries. */
const PROBE_REUSE_MS = 1000;

/** "unreachable": no answer within the deadline (or an error); the API cannot serve. */
export type DatabaseState = "ok" | "slow" | "unreachable";

/**
 * "ok": the database answers promptly and a worker is alive. "degraded": the API serves, but
 * something is wrong (no live worker, so queued migrations wait; a slow database). "down": the
 * database is unreachable, so the API cannot serve.
 */
export type HealthStatus = "ok" | "degraded" | "down";

/** What GET /healthz tells anyone: states and a count, nothing that names hosts, versions or workers. */
export interface PublicHealth {
  status: HealthStatus;
  database: DatabaseState;
  /** Workers alive, all pools together; null when the database could not say. */
  workers: number | null;
  degraded: boolean;
}

export interface HealthReport extends PublicHealth {
  version: string;
  /** Why the status is not "ok", in sentences for the operator. */
  reasons: string[];
  databaseDetail: {
    kind: "embedded" | "external";
    latencyMs: number | null;
    problem: string | null;
  };
  /** Live workers per pool (a pool with none is absent). */
  workerPools: PoolLiveness[];
  engine: { kind: string; version: string | null };
  /** Whether emails can go out (SMTP, a From address and recipients), and in a sentence why (not). */
  notifications: { configured: boolean; detail: string };
  uptimeSeconds: number;
}

export interface HealthSources {
  ctx: Pick<ServiceContext, "pool">;
  version: string;
  databaseKind: "embedded" | "external";
  engine: { kind: string; version: string | null };
  /** SMTP and From address; the recipients come from the settings. */
  notifications: NotificationConfig;
}

export interface HealthProvider {
  /**
   * The whole report; settles within about PROBE_DEADLINE_MS whatever the database does. `fresh`
   * skips the reuse of a recent probe (an operator who just changed the settings reads them back).
   */
  report(options?: { fresh?: boolean }): Promise<HealthReport>;
  close(): Promise<void>;
}

interface Probe {
  at: number;
  latencyMs: number | null;
  problem: string | null;
  settings: Settings | null;
  pools: PoolLiveness[];
}

const startedAt = Date.now();

/** What an anonymous caller of /healthz may see of a report. */
export function publicHealth(report: PublicHealth): PublicHealth {
  return {
    status: report.status,
    database: report.database,
    workers: report.workers,
    degraded: report.degraded,
  };
}

/** The HTTP status of /healthz: only an unreachable database makes the API unusable. */
export function healthHttpStatus(report: PublicHealth): 200 | 503 {
  return report.status === "down" ? 503 : 200;
}

/**
 * Builds the /healthz report. The database is asked through a one-connection pool of its own with a
 * hard deadline (see BoundedDatabase): a main pool whose connections all hang on a frozen database
 * cannot hold the answer up, and a hung probe is abandoned, its pool with it. Concurrent checks share
 * one probe, and a probe under a second old is reused.
 */
export function createHealthProvider(sources: HealthSources): HealthProvider {
  const probeDb: BoundedDatabase = openBoundedDatabase(sources.ctx.pool.options, {
    timeoutMs: PROBE_DEADLINE_MS,
    maxConnections: 1,
  });
  let last: Probe | null = null;
  let inFlight: Promise<Probe> | null = null;

  async function runProbe(): Promise<Probe> {
    const began = performance.now();
    try {
      const { settings, pools } = await probeDb.run("the health check", async (db) => {
        const settings = await getSettings({ db });
        return { settings, pools: await countLiveWorkers(db, settings.leaseSeconds) };
      });
      const latencyMs = Math.round((performance.now() - began) * 10) / 10;
      return { at: Date.now(), latencyMs, problem: null, settings, pools };
    } catch (e: unknown) {
      // The driver's message can name hosts; the code is enough to tell an operator where to look.
      const code = (e as { code?: string }).code ?? "no connection";
      const problem = `The database did not answer within ${PROBE_DEADLINE_MS} ms (${code}).`;
      return { at: Date.now(), latencyMs: null, problem, settings: null, pools: [] };
    }
  }

  function probe(fresh: boolean): Promise<Probe> {
    if (!fresh && last && Date.now() - last.at < PROBE_REUSE_MS) return Promise.resolve(last);
    if (!inFlight) {
      inFlight = runProbe().then((result) => {
        last = result;
        inFlight = null;
        return result;
      });
    }
    return inFlight;
  }

  return {
    async report(options = {}) {
      const result = await probe(options.fresh === true);
      const database: DatabaseState = result.problem
        ? "unreachable"
        : (result.latencyMs ?? 0) > SLOW_PROBE_MS
          ? "slow"
          : "ok";
      const workers = result.problem ? null : result.pools.reduce((sum, p) => sum + p.alive, 0);
      const reasons: string[] = [];
      if (result.problem) reasons.push(result.problem);
      if (database === "slow") {
        reasons.push(`The database answered slowly (${Math.round(result.latencyMs ?? 0)} ms).`);
      }
      if (workers === 0) {
        reasons.push(
          "No worker is alive: queued migrations wait until one starts (`imapferry worker`, or `imapferry start` without --no-worker).",
        );
      }
      const degraded = database !== "ok" || workers === 0;
      const notifications = notificationStatus(
        sources.notifications,
        result.settings?.notificationRecipients,
      );
      return {
        status: database === "unreachable" ? "down" : degraded ? "degraded" : "ok",
        database,
        workers,
        degraded,
        version: sources.version,
        reasons,
        databaseDetail: { kind: sources.databaseKind, latencyMs: result.latencyMs, problem: result.problem },
        workerPools: result.pools,
        engine: sources.engine,
        notifications: { configured: notifications.enabled, detail: notifications.reason },
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      };
    },
    async close() {
      await probeDb.close();
    },
  };
}
