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
/**
 * A side's delegated OAuth2 grant instead of its password: the mailbox's refresh token, the provider
 * (google or microsoft), the OAuth client it was issued to, and optionally a token endpoint.
 */
export const CSV_OAUTH2_COLUMNS = [
  "sourceRefreshToken",
  "sourceOAuth2Provider",
  "sourceOAuth2ClientId",
  "sourceOAuth2ClientSecret",
  "sourceOAuth2TokenUrl",
  "destRefreshToken",
  "destOAuth2Provider",
  "destOAuth2ClientId",
  "destOAuth2ClientSecret",
  "destOAuth2TokenUrl",
] as const;
export type CsvOAuth2Column = (typeof CSV_OAUTH2_COLUMNS)[number];
export const CSV_OPTIONAL_COLUMNS = ["name", "dryRun"] as const;
/**
 * The mailbox owner's email: with an empty source password, the job waits for the owner, who is
 * emailed a single-use link to enter it (header `ownerEmail` or `owner_email`).
 */
export const CSV_OWNER_COLUMNS = ["ownerEmail"] as const;
/** The template's columns, in order (the OAuth2 and engine option columns are added where used). */
export const CSV_COLUMNS = [...CSV_REQUIRED_COLUMNS, ...CSV_OPTIONAL_COLUMNS] as const;
/** A column the import reads besides the engine options. */
export type CsvColumn = (typeof CSV_COLUMNS)[number] | CsvOAuth2Column | (typeof CSV_OWNER_COLUMNS)[number];

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
