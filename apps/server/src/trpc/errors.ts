import type { FieldProblem, ImapferryErrorCode } from "@imapferry/core";
import { isImapferryError } from "@imapferry/core";
import { TRPCError } from "@trpc/server";

type TRPCErrorCode = TRPCError["code"];

/** The one place domain error codes become API error codes. */
const CODE_MAP: Record<ImapferryErrorCode, TRPCErrorCode> = {
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  BAD_INPUT: "BAD_REQUEST",
  UNAUTHENTICATED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  RATE_LIMITED: "TOO_MANY_REQUESTS",
  CONFIG: "PRECONDITION_FAILED",
  UNAVAILABLE: "SERVICE_UNAVAILABLE",
  INTERNAL: "INTERNAL_SERVER_ERROR",
};

/** What an internal error tells the client: the details are in the server log, never in the response. */
export const INTERNAL_MESSAGE = "Something went wrong on the server. The server log has the details.";

interface IssueLike {
  path?: readonly (PropertyKey | { key: PropertyKey })[];
  message: string;
}

function isIssueList(value: unknown): value is IssueLike[] {
  return (
    Array.isArray(value) &&
    value.every(
      (issue) =>
        typeof issue === "object" && issue !== null && typeof (issue as IssueLike).message === "string",
    )
  );
}

/** Field problems from a zod error or a Standard Schema failure (what tRPC throws for bad input). */
export function problemsFromIssues(error: unknown): FieldProblem[] | null {
  if (typeof error !== "object" || error === null) return null;
  const issues = (error as { issues?: unknown }).issues;
  if (!isIssueList(issues)) return null;
  return issues.map((issue) => ({
    path: (issue.path ?? []).map((segment) => {
      const key = typeof segment === "object" && segment !== null ? segment.key : segment;
      return typeof key === "number" ? key : String(key);
    }),
    message: issue.message,
  }));
}

function describeProblems(problems: FieldProblem[]): string {
  const first = problems[0];
  if (!first) return "The input is not valid.";
  const where = first.path.length > 0 ? `${first.path.join(".")}: ` : "";
  const more =
    problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? "s" : ""})` : "";
  return `${where}${first.message}${more}`;
}

export interface MappedError {
  error: TRPCError;
  problems: FieldProblem[];
}

/**
 * Maps anything thrown by a procedure to the TRPCError the client sees. Domain errors keep their
 * sentence; validation failures say which field; anything unexpected becomes an opaque internal error
 * (its message may hold details a client must not see).
 */
export function toTRPCError(thrown: unknown): MappedError {
  const original = thrown instanceof TRPCError && thrown.cause !== undefined ? thrown.cause : thrown;
  if (isImapferryError(original)) {
    return {
      error: new TRPCError({ code: CODE_MAP[original.code], message: original.message, cause: original }),
      problems: original.problems,
    };
  }
  const problems = problemsFromIssues(original);
  if (problems) {
    return {
      error: new TRPCError({ code: "BAD_REQUEST", message: describeProblems(problems), cause: original }),
      problems,
    };
  }
  if (thrown instanceof TRPCError && thrown.code !== "INTERNAL_SERVER_ERROR")
    return { error: thrown, problems: [] };
  return {
    error: new TRPCError({
      code: "INTERNAL_SERVER_ERROR",
      message: INTERNAL_MESSAGE,
      cause: original instanceof Error ? original : undefined,
    }),
    problems: [],
  };
}
