export type { EngineRunInput, EngineRunner, EngineRunResult } from "./engine-run.ts";
export { defaultEngineRunner } from "./engine-run.ts";
export type { MigratePayload } from "./queue-entries.ts";
export { enqueueJobs, MIGRATE_TASK, migrateTaskFor, queueKeyFor } from "./queue-entries.ts";
export type { StartWorkerOptions, WorkerHandle } from "./worker.ts";
export { startWorker } from "./worker.ts";
