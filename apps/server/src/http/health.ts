import type { NotificationConfig, ServiceContext } from "@imapferry/core";
import { getSettings, notificationStatus } from "@imapferry/core";

export interface HealthReport {
  /** "ok" when the database answers; "unavailable" otherwise. */
  status: "ok" | "unavailable";
  version: string;
  database: { ok: boolean; kind: "embedded" | "external"; latencyMs: number | null; problem: string | null };
  engine: { kind: string; version: string | null };
  /** Whether emails can go out (SMTP, a From address and recipients), and in a sentence why (not). */
  notifications: { configured: boolean; detail: string };
  uptimeSeconds: number;
}

export interface HealthSources {
  ctx: Pick<ServiceContext, "pool" | "db">;
  version: string;
  databaseKind: "embedded" | "external";
  engine: { kind: string; version: string | null };
  /** SMTP and From address; the recipients come from the settings. */
  notifications: NotificationConfig;
}

const startedAt = Date.now();

/** Builds the /healthz report; the database is asked each time (a cheap `select 1`). */
export function createHealthProvider(sources: HealthSources): () => Promise<HealthReport> {
  return async function checkHealth() {
    const began = performance.now();
    let problem: string | null = null;
    try {
      await sources.ctx.pool.query("select 1");
    } catch (e: unknown) {
      // The driver's message can name hosts; the code is enough to tell an operator where to look.
      problem = `The database did not answer (${(e as { code?: string }).code ?? "no connection"}).`;
    }
    const settings = problem ? null : await getSettings(sources.ctx).catch(() => null);
    const notifications = notificationStatus(sources.notifications, settings?.notificationRecipients);
    return {
      status: problem ? "unavailable" : "ok",
      version: sources.version,
      database: {
        ok: problem === null,
        kind: sources.databaseKind,
        latencyMs: problem ? null : Math.round((performance.now() - began) * 10) / 10,
        problem,
      },
      engine: sources.engine,
      notifications: { configured: notifications.enabled, detail: notifications.reason },
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    };
  };
}
