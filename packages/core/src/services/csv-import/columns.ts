// The batch CSV's columns. This module imports nothing: the SDK's build copies it into the published
// package (its rowsToCsv writes the same header), which depends on no workspace package at runtime.

export const CSV_REQUIRED_COLUMNS = [
  "sourceServerId",
  "sourceEmail",
  "sourcePassword",
  "destServerId",
  "destEmail",
  "destPassword",
] as const;
export const CSV_OPTIONAL_COLUMNS = ["name", "dryRun"] as const;
/** Every column, in the order of the downloadable template. */
export const CSV_COLUMNS = [...CSV_REQUIRED_COLUMNS, ...CSV_OPTIONAL_COLUMNS] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];
