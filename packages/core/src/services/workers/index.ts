export type { HeartbeatResult, RecoveryResult, WorkerView } from "./workers.ts";
export {
  heartbeat,
  listWorkers,
  markSilentWorkersStopped,
  markWorkerStopped,
  recoverInterruptedJobs,
  registerWorker,
  requeueOrphanedJobs,
} from "./workers.ts";
