/** A field problem as the server reports it (ImapferryError problems, carried in the tRPC error data). */
export interface Problem {
  path: (string | number)[];
  message: string;
}

interface ErrorWithData {
  message?: unknown;
  data?: { code?: unknown; problems?: unknown; httpStatus?: unknown } | null;
  shape?: { data?: { problems?: unknown } } | null;
}

/** The field problems attached to an API error, if any. */
export function errorProblems(error: unknown): Problem[] {
  if (typeof error !== "object" || error === null) return [];
  const e = error as ErrorWithData;
  const raw = e.data?.problems ?? e.shape?.data?.problems;
  if (!Array.isArray(raw)) return [];
  return raw.filter(
    (p): p is Problem =>
      typeof p === "object" &&
      p !== null &&
      Array.isArray((p as Problem).path) &&
      typeof (p as Problem).message === "string",
  );
}

/** Whether the server said the caller has no session (so the panel shows the login screen). */
export function isUnauthenticated(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as ErrorWithData;
  return e.data?.code === "UNAUTHORIZED" || e.data?.httpStatus === 401;
}

/** Whether the server said the thing asked for does not exist (an unknown or deleted job, batch…). */
export function isNotFound(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as ErrorWithData;
  return e.data?.code === "NOT_FOUND" || e.data?.httpStatus === 404;
}
