import type { ScannedMessage } from "../builtin/mailbox-scan.ts";
import type { SyncArgs } from "../builtin/sync-args.ts";
import type { EngineKind } from "../types.ts";

/**
 * Why a source message is not on the destination, grouped the way an operator acts on it: raise a
 * limit, turn --addheader on, free space on the destination, or simply run again.
 */
export const MISSING_GROUPS = {
  overMaxSize: "over maxMessageBytes",
  underMinSize: "under minMessageBytes",
  noIdentity: "no Message-ID (addHeader is off)",
  refused: "refused by the destination",
  noFolder: "folder not on the destination",
  notCopied: "not on the destination",
} as const;

export type MissingGroup = (typeof MISSING_GROUPS)[keyof typeof MISSING_GROUPS];

/**
 * "folder/uid" → the server's answer, from the engines' append failures. Both print imapsync's
 * `- msg INBOX/5 {1234} could not append ( … ) to folder INBOX: <server answer>`.
 */
export function refusalsFromErrors(lines: string[]): Map<string, string> {
  const refusals = new Map<string, string>();
  for (const line of lines) {
    const match = /msg (.+?)\/(\d+) \{\d+\} could not append .*? to folder .+?: (.+)$/.exec(line);
    if (match?.[1] && match[2] && match[3]) refusals.set(`${match[1]}/${match[2]}`, match[3].trim());
  }
  return refusals;
}

export function missingReason(input: {
  message: ScannedMessage;
  args: SyncArgs;
  engine: EngineKind;
  folderExists: boolean;
  refusal: string | undefined;
}): { group: MissingGroup; detail: string } {
  const { message, args } = input;
  if (args.maxSize !== undefined && message.size > args.maxSize) {
    return {
      group: MISSING_GROUPS.overMaxSize,
      detail: `${message.size} bytes, over maxMessageBytes (${args.maxSize})`,
    };
  }
  if (args.minSize !== undefined && message.size < args.minSize) {
    return {
      group: MISSING_GROUPS.underMinSize,
      detail: `${message.size} bytes, under minMessageBytes (${args.minSize})`,
    };
  }
  if (input.refusal) {
    return { group: MISSING_GROUPS.refused, detail: `refused by the destination: ${input.refusal}` };
  }
  if (input.engine === "imapsync" && !args.addHeader && message.headerKey === undefined) {
    return {
      group: MISSING_GROUPS.noIdentity,
      detail: "no Message-ID or Received header: imapsync skips it unless addHeader is on",
    };
  }
  if (!input.folderExists) {
    return { group: MISSING_GROUPS.noFolder, detail: "its folder does not exist on the destination" };
  }
  return { group: MISSING_GROUPS.notCopied, detail: "not on the destination; run the migration again" };
}
