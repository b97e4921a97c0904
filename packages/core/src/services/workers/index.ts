export type { ProcessIdentity } from "./process-identity.ts";
export { currentProcessIdentity, hasCertainlyExited } from "./process-identity.ts";
export type { RecoverySweeper } from "./recovery-sweeper.ts";
export { recoverAbandonedWork, startRecoverySweeper } from "./recovery-sweeper.ts";
export type { PoolLiveness, RecoveryResult, WorkerView } from "./workers.ts";
export {
  countLiveWorkers,
  EXITED_WORKER_GRACE_MS,
  listWorkers,
  markExitedWorkers,
  recoverInterruptedJobs,
  requeueOrphanedJobs,
} from "./workers.ts";
