export type { BatchView } from "./batches.ts";
export { createBatch, getBatch, listBatches } from "./batches.ts";
export type { CreateBatchInput } from "./schemas.ts";
export { batchTagSchema, createBatchInputSchema, listBatchesInputSchema } from "./schemas.ts";
