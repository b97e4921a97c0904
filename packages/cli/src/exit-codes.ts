/**
 * What the `imapferry` operator commands exit with, for scripts. Ranges never overlap: a script can
 * tell "the server said no" from "the server could not be reached" from "the mail was not all moved".
 */
export const EXIT = {
  /** The command did what it was asked; a followed job or batch ended with every job done. */
  ok: 0,
  /** A bug or something nobody foresaw (the message says what). */
  unexpected: 1,
  /** The command line itself is wrong: an unknown option, a missing argument, IMAPFERRY_URL not set. */
  usage: 2,
  /** The server refused the request: bad input (each problem printed), no such job or batch, a conflict. */
  refused: 3,
  /** No token, an expired or revoked one, or one whose role or tenant does not allow this. */
  unauthorized: 4,
  /** The server could not be reached (network, DNS, TLS, or it answered with something that is not imapferry). */
  unreachable: 5,
  /** Followed work ended, and some of it is incomplete (mail left behind, reasons in the report); nothing failed. */
  incomplete: 6,
  /** Followed work ended, and some of it failed, was cancelled or was interrupted. */
  failed: 7,
  /** Ctrl-C while following: the following stopped, the jobs go on on the server (128 + SIGINT). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A mistake the user can fix, reported as one sentence and an exit code (no stack trace). */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  /** Further lines under the sentence, e.g. each problem of a CSV file. */
  readonly details: string[];

  constructor(exitCode: ExitCode, message: string, details: string[] = []) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
    this.details = details;
  }
}
