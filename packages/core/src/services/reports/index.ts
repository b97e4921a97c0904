export type { BatchReport, BatchReportRow } from "./batch-report.ts";
export { getBatchReport, requireBatchForReport, streamBatchReport } from "./batch-report.ts";
export type { JobReport } from "./job-report.ts";
export { getJobReport } from "./job-report.ts";
export { BATCH_REPORT_COLUMNS, batchReportCsvHeader, batchReportCsvLine } from "./report-csv.ts";
export type { ReportInput } from "./schemas.ts";
export { reportInputSchema } from "./schemas.ts";
