export { HOST_DETAIL_PATTERNS, isHostDetail, withoutHostDetails } from "./host-details.ts";
export type { LogWriter, LogWriterOptions } from "./log-writer.ts";
export { createLogWriter, LOG_FLUSH_INTERVAL_MS } from "./log-writer.ts";
export type { LogChunk, LogPage, LogText } from "./logs.ts";
export { appendLogChunk, DEFAULT_LOG_PAGE_BYTES, readLog, streamLog, trimChunk } from "./logs.ts";
