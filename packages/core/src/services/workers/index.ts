export type { RecoveryResult, WorkerView } from "./workers.ts";
export { listWorkers, recoverInterruptedJobs, requeueOrphanedJobs } from "./workers.ts";
