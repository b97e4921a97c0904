import type { JobStatus } from "@imapferry/sdk";
import { EXIT, type ExitCode } from "./exit-codes.ts";

/**
 * Statuses a job moves on from without the operator: following it goes on while it has one of these
 * (awaiting_credentials: the mailbox's owner has a link to enter the source password).
 */
export const ACTIVE_STATUSES: readonly string[] = [
  "queued",
  "running",
  "waiting",
  "awaiting_credentials",
] satisfies JobStatus[];

export function isActive(status: string): boolean {
  return ACTIVE_STATUSES.includes(status);
}

/**
 * The exit code for jobs that stopped moving: 0 only when every one is done; incomplete (mail left
 * behind, nothing failed) and failed are told apart so a script can rerun or alert accordingly.
 */
export function exitCodeForStatuses(statuses: Iterable<[status: string, count: number]>): ExitCode {
  let incomplete = false;
  for (const [status, count] of statuses) {
    if (count === 0 || status === "done") continue;
    if (status === "incomplete") incomplete = true;
    else return EXIT.failed;
  }
  return incomplete ? EXIT.incomplete : EXIT.ok;
}
