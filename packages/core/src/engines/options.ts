import { z } from "zod";
import { ImapferryError } from "../errors.ts";

/**
 * The engine options an operator may set, per job or as batch defaults. This is an allow-list: the
 * schema is strict, and only what it describes ever reaches an engine's argv (see imapsync/args.ts).
 * Options that run code or rewrite mail (--pipemess, --regexmess, free-text --regextrans2), reveal
 * secrets (--debugenv, --showpasswords) or delete on the source (--delete1) have no field here.
 * Values are validated, never quoted: the engine is spawned without a shell, so every value is one argv
 * element and nothing is interpreted.
 */

/** No control characters, and no leading "-": a value must never be read as another option. */
export const SAFE_TEXT = /^(?!-)\P{Cc}+$/u;

const folderName = z
  .string()
  .min(1, "A folder name cannot be empty.")
  .max(500, "A folder name can be at most 500 characters.")
  .regex(SAFE_TEXT, "A folder name cannot start with '-' or contain control characters.");

const folderMapping = z
  .object({
    from: folderName.refine((v) => !v.includes("="), "A source folder name in a mapping cannot contain '='."),
    to: folderName,
  })
  .strict();

const positiveInt = (max: number, what: string) =>
  z
    .number()
    .int(`${what} must be a whole number.`)
    .positive(`${what} must be greater than 0.`)
    .max(max, `${what} can be at most ${max}.`);

export const ENGINE_PRESETS = ["gmail", "office365"] as const;
export type EnginePreset = (typeof ENGINE_PRESETS)[number];

export const engineOptionsSchema = z
  .object({
    /**
     * Only these source folders; default all. Names are exact: the IMAP name the engine log shows
     * ("Entw&APw-rfe") or the UTF-8 one ("Entwürfe"), which is encoded to the IMAP form. → `--folder`
     */
    folders: z.array(folderName).max(1000).optional().describe("Only these source folders (exact names)."),
    /** Source folders to leave out (exact names). → `--exclude ^name$` */
    excludeFolders: z
      .array(folderName)
      .max(1000)
      .optional()
      .describe("Source folders to leave out (exact names)."),
    /** Rename folders on the way (exact source name → destination name). → `--f1f2 from=to` */
    folderMap: z
      .array(folderMapping)
      .max(1000)
      .optional()
      .describe("Rename folders: source name → destination name."),
    /** Put every source folder under this destination folder. → `--subfolder2` */
    destinationSubfolder: folderName.optional().describe("Put everything under this destination folder."),
    /** Map special folders (Sent, Trash, Drafts…) by their SPECIAL-USE flags. @defaultValue false → `--automap` */
    automap: z.boolean().default(false).describe("Map Sent, Trash, Drafts… by their special-use flags."),
    /**
     * imapsync only: add a Message-ID header to messages that lack one, so they are copied and found
     * again on a rerun (without it imapsync leaves them behind). The built-in engine never changes a
     * message: it identifies such messages by content and copies them byte for byte, whatever this says.
     * Jobs stored before this default changed keep their stored value. @defaultValue true → `--addheader`
     */
    addHeader: z
      .boolean()
      .default(true)
      .describe(
        "imapsync: adds a Message-ID header to messages that lack one, so none is left behind. The built-in engine copies them unchanged.",
      ),
    /** Delete destination messages that are not on the source. Destructive. @defaultValue false → `--delete2` */
    deleteOnDestination: z
      .boolean()
      .default(false)
      .describe("Delete destination messages that are not on the source (destructive)."),
    /** Only subscribed source folders. @defaultValue false → `--subscribed` */
    subscribedOnly: z.boolean().default(false).describe("Only subscribed source folders."),
    /** Subscribe every folder on the destination. @defaultValue false → `--subscribeall` */
    subscribeAll: z.boolean().default(false).describe("Subscribe every folder on the destination."),
    /** Create the folder tree only, copy no message. @defaultValue false → `--justfolders` */
    justFolders: z.boolean().default(false).describe("Create the folder tree only."),
    /** Do not create folders that are empty on the source. @defaultValue false → `--skipemptyfolders` */
    skipEmptyFolders: z.boolean().default(false).describe("Do not create empty folders."),
    /** Identify messages by headers only, not headers + size. @defaultValue false → `--skipsize` */
    skipSize: z.boolean().default(false).describe("Identify messages by headers only, ignoring their size."),
    /** Throttle: bytes per second. → `--maxbytespersecond` */
    maxBytesPerSecond: positiveInt(10 * 1024 ** 3, "maxBytesPerSecond")
      .optional()
      .describe("Throttle, bytes per second."),
    /** Throttle: messages per second. → `--maxmessagespersecond` */
    maxMessagesPerSecond: z
      .number()
      .positive("maxMessagesPerSecond must be greater than 0.")
      .max(100_000, "maxMessagesPerSecond can be at most 100000.")
      .optional()
      .describe("Throttle, messages per second."),
    /** Skip messages bigger than this many bytes. → `--maxsize` */
    maxMessageBytes: positiveInt(10 * 1024 ** 3, "maxMessageBytes")
      .optional()
      .describe("Skip bigger messages (bytes)."),
    /** Skip messages smaller than this many bytes. → `--minsize` */
    minMessageBytes: positiveInt(10 * 1024 ** 3, "minMessageBytes")
      .optional()
      .describe("Skip smaller messages (bytes)."),
    /** Only messages younger than this many days. → `--maxage` */
    maxAgeDays: positiveInt(100_000, "maxAgeDays")
      .optional()
      .describe("Only messages younger than this (days)."),
    /** Only messages older than this many days. → `--minage` */
    minAgeDays: positiveInt(100_000, "minAgeDays")
      .optional()
      .describe("Only messages older than this (days)."),
    /** Stop after this many errors. @defaultValue imapsync's 50 → `--errorsmax` */
    errorsMax: positiveInt(1_000_000, "errorsMax").optional().describe("Give up after this many errors."),
    /** IMAP timeout on both sides, seconds. @defaultValue imapsync's 120 → `--timeout1/--timeout2` */
    timeoutSeconds: positiveInt(3600, "timeoutSeconds").optional().describe("IMAP timeout, seconds."),
    /** Stop the run after this many bytes (a rerun continues). → `--exitwhenover` */
    stopAfterBytes: positiveInt(Number.MAX_SAFE_INTEGER, "stopAfterBytes")
      .optional()
      .describe("Stop after this many bytes."),
    /** Provider preset for the source: Gmail or Office 365 folder and throttle quirks. → `--gmail1/--office1` */
    sourcePreset: z.enum(ENGINE_PRESETS).optional().describe("Provider preset for the source."),
    /** Provider preset for the destination. → `--gmail2/--office2` */
    destinationPreset: z.enum(ENGINE_PRESETS).optional().describe("Provider preset for the destination."),
  })
  .strict()
  .superRefine(function checkOptionPairs(o, ctx) {
    if (
      o.minMessageBytes !== undefined &&
      o.maxMessageBytes !== undefined &&
      o.minMessageBytes > o.maxMessageBytes
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["minMessageBytes"],
        message: "minMessageBytes is larger than maxMessageBytes.",
      });
    }
    if (o.minAgeDays !== undefined && o.maxAgeDays !== undefined && o.minAgeDays >= o.maxAgeDays) {
      ctx.addIssue({
        code: "custom",
        path: ["minAgeDays"],
        message: "minAgeDays must be smaller than maxAgeDays.",
      });
    }
    if (o.folders && o.excludeFolders) {
      const both = o.folders.filter((f) => o.excludeFolders?.includes(f));
      if (both.length > 0) {
        ctx.addIssue({
          code: "custom",
          path: ["excludeFolders"],
          message: `Folder "${both[0]}" is both included and excluded.`,
        });
      }
    }
  });

/**
 * Options as an operator set them at one level (the settings' defaults, a batch's, a row's): checked
 * against the allow-list like engineOptionsSchema, but kept as given, without defaults filled in, so
 * that a lower level's unset option does not hide a higher level's choice.
 */
export const explicitEngineOptionsSchema = z
  .custom<EngineOptionsInput>(
    (value) => typeof value === "object" && value !== null && !Array.isArray(value),
    {
      message: "Engine options are an object of option names and values.",
    },
  )
  .superRefine(function checkAsEngineOptions(value, ctx) {
    const parsed = engineOptionsSchema.safeParse(value);
    if (parsed.success) return;
    for (const issue of parsed.error.issues) {
      ctx.addIssue({
        code: "custom",
        path: issue.path.map((p) => (typeof p === "symbol" ? String(p) : p)),
        message:
          issue.code === "unrecognized_keys"
            ? `${issue.keys.map((k) => `"${k}"`).join(", ")} ${issue.keys.length === 1 ? "is not an allowed engine option" : "are not allowed engine options"}.`
            : issue.message,
      });
    }
  });

/** Engine options after validation, with defaults applied. */
export type EngineOptions = z.output<typeof engineOptionsSchema>;
/** What an operator (or a batch default) may write. */
export type EngineOptionsInput = z.input<typeof engineOptionsSchema>;

/**
 * Validates stored or submitted options; BAD_INPUT with one problem per offending field otherwise
 * (an unknown option is named, so "pipemess is not an allowed option" reads as it should).
 */
export function parseEngineOptions(raw: unknown): EngineOptions {
  const result = engineOptionsSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        path: [...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p)), key],
        message: `"${key}" is not an allowed engine option.`,
      }));
    }
    return [{ path: issue.path.map((p) => (typeof p === "symbol" ? String(p) : p)), message: issue.message }];
  });
  throw new ImapferryError(
    "BAD_INPUT",
    `Invalid engine options: ${problems.map((p) => `${p.path.join(".") || "options"}: ${p.message}`).join("; ")}`,
    problems,
  );
}
