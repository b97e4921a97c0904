import type { OptionOrigin } from "@imapferry/db";
import { layerOptions, type OptionLayers } from "../../engines/option-layers.ts";
import type { EngineOptionsInput } from "../../engines/options.ts";
import { engineOptionsSchema } from "../../engines/options.ts";
import { CSV_OPTION_COLUMNS, type CsvOptionColumn } from "./columns.ts";

/** How a cell of each option column is read. Keyed by every engine option: a new option must say. */
const CELL_KINDS = {
  folders: "list",
  excludeFolders: "list",
  folderMap: "mapping",
  destinationSubfolder: "text",
  automap: "boolean",
  addHeader: "boolean",
  deleteOnDestination: "boolean",
  subscribedOnly: "boolean",
  subscribeAll: "boolean",
  justFolders: "boolean",
  skipEmptyFolders: "boolean",
  skipSize: "boolean",
  maxBytesPerSecond: "number",
  maxMessagesPerSecond: "number",
  maxMessageBytes: "number",
  minMessageBytes: "number",
  maxAgeDays: "number",
  minAgeDays: "number",
  errorsMax: "number",
  timeoutSeconds: "number",
  stopAfterBytes: "number",
  sourcePreset: "text",
  destinationPreset: "text",
} as const satisfies Record<keyof EngineOptionsInput, "list" | "mapping" | "text" | "boolean" | "number">;

// The CSV's option columns (columns.ts, which imports nothing) are exactly the engine options: a
// column missing or left over fails the build here.
type Mismatch =
  | Exclude<keyof EngineOptionsInput, CsvOptionColumn>
  | Exclude<CsvOptionColumn, keyof EngineOptionsInput>;
export type OptionColumnsMatch = [Mismatch] extends [never] ? true : Mismatch;
true satisfies OptionColumnsMatch;

const TRUE_WORDS = new Set(["true", "yes", "y", "1"]);
const FALSE_WORDS = new Set(["false", "no", "n", "0"]);

export interface OptionCellProblem {
  column: CsvOptionColumn;
  reason: string;
}

/** The option a cell sets, or the reason it cannot be read. Empty cells set nothing (undefined). */
function readCell(column: CsvOptionColumn, raw: string): { value?: unknown; problem?: string } {
  const text = raw.trim();
  if (text === "") return {};
  switch (CELL_KINDS[column]) {
    case "boolean": {
      const word = text.toLowerCase();
      if (TRUE_WORDS.has(word)) return { value: true };
      if (FALSE_WORDS.has(word)) return { value: false };
      return { problem: `"${text}" is not true or false.` };
    }
    case "number":
      return /^\d+(\.\d+)?$/.test(text) ? { value: Number(text) } : { problem: `"${text}" is not a number.` };
    case "list":
      return {
        value: text
          .split(";")
          .map((part) => part.trim())
          .filter((part) => part !== ""),
      };
    case "mapping": {
      const pairs = text
        .split(";")
        .map((part) => part.trim())
        .filter((part) => part !== "");
      const bad = pairs.find((pair) => !pair.includes("="));
      if (bad !== undefined) return { problem: `"${bad}" is not a from=to pair of folder names.` };
      return {
        value: pairs.map((pair) => {
          const at = pair.indexOf("=");
          return { from: pair.slice(0, at).trim(), to: pair.slice(at + 1).trim() };
        }),
      };
    }
    default:
      return { value: text };
  }
}

/** Header names of option columns, lower-cased, to the column. */
export const OPTION_COLUMN_BY_NAME = new Map<string, CsvOptionColumn>(
  CSV_OPTION_COLUMNS.map((column) => [column.toLowerCase(), column]),
);

/**
 * A row's engine options: its option cells read and laid over the options it inherits (the batch's
 * over the settings'), then checked as a whole against the allow-list (a row's minAgeDays against the
 * batch's maxAgeDays, say). Returns the options to store, or the problems by column.
 */
export function rowOptions(
  cells: ReadonlyMap<CsvOptionColumn, string>,
  inherited: Pick<OptionLayers, "settings" | "batch">,
): {
  options: Record<string, unknown>;
  origins: Record<string, OptionOrigin>;
  problems: OptionCellProblem[];
} {
  const own: Record<string, unknown> = {};
  const problems: OptionCellProblem[] = [];
  for (const [column, raw] of cells) {
    const cell = readCell(column, raw);
    if (cell.problem) problems.push({ column, reason: cell.problem });
    else if (cell.value !== undefined) own[column] = cell.value;
  }
  if (problems.length > 0) return { options: {}, origins: {}, problems };
  const layered = layerOptions({ ...inherited, own, ownOrigin: "row" });
  const parsed = engineOptionsSchema.safeParse(layered.merged);
  if (parsed.success) return { options: parsed.data, origins: layered.origins, problems: [] };
  for (const issue of parsed.error.issues) {
    const key = String(issue.path[0] ?? "");
    const column = OPTION_COLUMN_BY_NAME.get(key.toLowerCase());
    // A problem in what the row inherits is the batch's or the settings', reported on the first option column.
    problems.push({
      column: column ?? (CSV_OPTION_COLUMNS[0] as CsvOptionColumn),
      reason: column && key in own ? issue.message : `${issue.message} (from the batch's options)`,
    });
  }
  return { options: {}, origins: {}, problems };
}
