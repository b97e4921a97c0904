export type { BatchView } from "./batches.ts";
export {
  createBatch,
  ENDED_STATUSES,
  getBatch,
  listBatches,
  RERUN_FAILED_STATUSES,
  updateBatch,
} from "./batches.ts";
export { rerunFailedInBatch, runBatchReal } from "./rerun-batch.ts";
export type { CreateBatchInput } from "./schemas.ts";
export {
  batchIdInputSchema,
  batchTagSchema,
  createBatchInputSchema,
  listBatchesInputSchema,
  updateBatchInputSchema,
} from "./schemas.ts";
