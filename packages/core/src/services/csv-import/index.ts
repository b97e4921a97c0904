export type { CsvColumn } from "./columns.ts";
export {
  CSV_COLUMNS,
  CSV_OAUTH2_COLUMNS,
  CSV_OPTIONAL_COLUMNS,
  CSV_OWNER_COLUMNS,
  CSV_REQUIRED_COLUMNS,
} from "./columns.ts";
export type {
  CsvRowError,
  CsvRowSummary,
  ImportPlan,
  ImportPreview,
  ImportResult,
  OwnerLinkRow,
  RejectedRow,
} from "./csv-import.ts";
export { CSV_MAX_ROWS, csvTemplate, importBatch, previewImport } from "./csv-import.ts";
export type { ImportCsvInput } from "./schemas.ts";
export { CSV_MAX_BYTES, importCsvInputSchema } from "./schemas.ts";
export type { LoginCheck, RowLoginCheck } from "./verify-logins.ts";
