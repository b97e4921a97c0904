import { TRPCClientError } from "@imapferry/sdk";
import { CliError, EXIT } from "./exit-codes.ts";

interface ApiErrorData {
  code?: string;
  httpStatus?: number;
  problems?: { path: (string | number)[]; message: string }[];
}

/** "line 4, source_email: …" for a CSV problem, "destEmail: …" for a field. */
function problemLine(problem: { path: (string | number)[]; message: string }): string {
  const [first, line, ...rest] = problem.path;
  const where =
    first === "line" && line !== undefined
      ? [`line ${line}`, ...rest.map(String)].join(", ")
      : problem.path.map(String).join(".");
  return where ? `${where}: ${problem.message}` : problem.message;
}

/**
 * Turns whatever the SDK threw into the sentence and exit code a user of the command line gets: the
 * server's own sentence for a refusal, each field or CSV problem on its own line.
 */
export function toCliError(e: unknown, url: string): CliError | null {
  if (e instanceof CliError) return e;
  if (!(e instanceof TRPCClientError)) return null;
  const data = (e.data ?? {}) as ApiErrorData;
  if (data.code === undefined) {
    // No tRPC error body: the request never reached imapferry (refused connection, DNS, TLS, a proxy's page).
    const cause = e.cause instanceof Error && e.cause.cause instanceof Error ? e.cause.cause : e.cause;
    const reason = cause instanceof Error ? cause.message : e.message;
    return new CliError(EXIT.unreachable, `Cannot reach imapferry at ${url}: ${reason}`);
  }
  const details = (data.problems ?? []).map(problemLine);
  if (data.code === "UNAUTHORIZED" || data.code === "FORBIDDEN") {
    return new CliError(EXIT.unauthorized, e.message, details);
  }
  if (data.code === "INTERNAL_SERVER_ERROR") return new CliError(EXIT.unexpected, e.message, details);
  return new CliError(EXIT.refused, e.message, details);
}
