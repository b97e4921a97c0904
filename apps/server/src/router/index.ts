import { protectedProcedure, router } from "../trpc/init.ts";
import { auditRouter } from "./audit.ts";
import { authRouter } from "./auth.ts";
import { batchesRouter } from "./batches.ts";
import { jobsRouter } from "./jobs.ts";
import { logsRouter } from "./logs.ts";
import { oauth2Router } from "./oauth2.ts";
import { serversRouter } from "./servers.ts";
import { settingsRouter } from "./settings.ts";
import { tokensRouter } from "./tokens.ts";
import { webhooksRouter } from "./webhooks.ts";
import { workersRouter } from "./workers.ts";

export const appRouter = router({
  /**
   * The whole health report (versions, database, workers per pool, engine, notifications).
   * Authenticated: a stranger gets only GET /healthz's states and counts, not what software runs here.
   */
  health: protectedProcedure.query(async function healthProcedure({ ctx }) {
    return ctx.deps.health();
  }),
  auth: authRouter,
  tokens: tokensRouter,
  servers: serversRouter,
  jobs: jobsRouter,
  batches: batchesRouter,
  logs: logsRouter,
  workers: workersRouter,
  settings: settingsRouter,
  audit: auditRouter,
  oauth2: oauth2Router,
  webhooks: webhooksRouter,
});

/** The API's type, for `@imapferry/sdk` (a type-only import: no server code reaches a client). */
export type AppRouter = typeof appRouter;

/** Procedures open without authentication: everything else answers UNAUTHORIZED to anonymous callers. */
export const PUBLIC_PROCEDURES = ["auth.login"] as const;
