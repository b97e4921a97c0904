export type {
  CsvRowError,
  CsvRowSummary,
  ImportCsvInput,
  ImportPreview,
  ImportResult,
} from "./csv-import.ts";
export {
  CSV_MAX_ROWS,
  CSV_OPTIONAL_COLUMNS,
  CSV_REQUIRED_COLUMNS,
  csvTemplate,
  importBatch,
  importCsvInputSchema,
  previewImport,
} from "./csv-import.ts";
