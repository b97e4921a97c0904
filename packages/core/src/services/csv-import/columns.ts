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

/**
 * Engine option columns a row may add (each optional; an empty cell leaves the option to the batch,
 * then the settings). Lists are `;`-separated (`folders`: `INBOX;Sent`), folder mappings `from=to`
 * pairs (`folderMap`: `Sent Items=Sent;Deleted Items=Trash`). Core checks this list against the
 * engine options' allow-list at compile time (option-columns.ts).
 */
export const CSV_OPTION_COLUMNS = [
  "folders",
  "excludeFolders",
  "folderMap",
  "destinationSubfolder",
  "automap",
  "addHeader",
  "deleteOnDestination",
  "subscribedOnly",
  "subscribeAll",
  "justFolders",
  "skipEmptyFolders",
  "skipSize",
  "maxBytesPerSecond",
  "maxMessagesPerSecond",
  "maxMessageBytes",
  "minMessageBytes",
  "maxAgeDays",
  "minAgeDays",
  "errorsMax",
  "timeoutSeconds",
  "stopAfterBytes",
  "sourcePreset",
  "destinationPreset",
] as const;
export type CsvOptionColumn = (typeof CSV_OPTION_COLUMNS)[number];
