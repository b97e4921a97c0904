/** What went wrong, in terms the API maps to HTTP/tRPC codes once, at the boundary. */
export const ERROR_CODES = [
  "NOT_FOUND",
  "CONFLICT",
  "BAD_INPUT",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "RATE_LIMITED",
  "CONFIG",
  "UNAVAILABLE",
  "INTERNAL",
] as const;
export type ImapferryErrorCode = (typeof ERROR_CODES)[number];

export interface FieldProblem {
  /** Path of the offending field, e.g. ["rows", 3, "sourceEmail"] or ["line", 4, "destPassword"]. */
  path: (string | number)[];
  message: string;
}

/**
 * A domain error: a code for machines and a sentence for the operator that says what to do.
 * Messages must never contain a password or any other credential.
 */
export class ImapferryError extends Error {
  readonly code: ImapferryErrorCode;
  readonly problems: FieldProblem[];

  constructor(code: ImapferryErrorCode, message: string, problems: FieldProblem[] = []) {
    super(message);
    this.name = "ImapferryError";
    this.code = code;
    this.problems = problems;
  }
}

export function isImapferryError(e: unknown): e is ImapferryError {
  return e instanceof ImapferryError;
}

/** The message of anything thrown: an Error's message, or the thrown value as text. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
