import type { Problem } from "../api/errors.ts";

/** The part of a zod schema the forms use: core's schemas are validated here exactly as on the server. */
export interface ParseableSchema<T> {
  safeParse(
    value: unknown,
  ):
    | { success: true; data: T }
    | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

export type FieldErrors = Record<string, string>;

/** Problems keyed by dotted path ("source.email"); the first message for a field wins. */
export function problemsToFieldErrors(
  problems: readonly { path: readonly PropertyKey[]; message: string }[],
): FieldErrors {
  const errors: FieldErrors = {};
  for (const problem of problems) {
    const key = problem.path.map(String).join(".") || "_form";
    if (!(key in errors)) errors[key] = problem.message;
  }
  return errors;
}

export type Validation<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors };

export function validate<T>(schema: ParseableSchema<T>, value: unknown): Validation<T> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, data: result.data };
  return { ok: false, errors: problemsToFieldErrors(result.error.issues) };
}

export function serverFieldErrors(problems: Problem[]): FieldErrors {
  return problemsToFieldErrors(problems);
}
