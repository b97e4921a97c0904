export type { BatchView, CreateBatchInput } from "./batches.ts";
export {
  batchTagSchema,
  createBatch,
  createBatchInputSchema,
  defaultBatchTag,
  getBatch,
  listBatches,
  listBatchesInputSchema,
} from "./batches.ts";
