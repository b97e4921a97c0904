export type { BatchView } from "./batches.ts";
export { createBatch, ENDED_STATUSES, getBatch, listBatches, RERUN_FAILED_STATUSES } from "./batches.ts";
export { rerunFailedInBatch, runBatchReal } from "./rerun-batch.ts";
export type { CreateBatchInput } from "./schemas.ts";
export {
  batchIdInputSchema,
  batchTagSchema,
  createBatchInputSchema,
  listBatchesInputSchema,
} from "./schemas.ts";
