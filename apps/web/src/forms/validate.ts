import type { Problem } from "../api/errors.ts";

/** The part of a zod issue a field sentence is chosen by. */
interface IssueLike {
  path?: readonly PropertyKey[];
}

/** The part of a zod schema the forms use: core's schemas are validated here exactly as on the server. */
export interface ParseableSchema<T> {
  safeParse(
    value: unknown,
    params?: { error?: (issue: IssueLike) => string | undefined },
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

/**
 * What a form says about each field when the schema has no sentence of its own: keyed by dotted path,
 * with `*` for any list index ("notificationRecipients.*").
 */
export type FieldSentences = Record<string, string>;

/** The form's sentence for the field of `path`, if it has one. */
export function sentenceFor(
  sentences: FieldSentences,
  path: readonly PropertyKey[] | undefined,
): string | undefined {
  const parts = (path ?? []).map(String);
  return sentences[parts.join(".")] ?? sentences[parts.map((p) => (/^\d+$/.test(p) ? "*" : p)).join(".")];
}

/**
 * Validates with the schema; where the schema gives no message of its own (zod's defaults, such as
 * "Invalid input: expected number, received NaN"), the field's sentence from `sentences` is used.
 * zod ranks a schema's own messages above the per-parse `error` map, so those still win.
 */
export function validate<T>(
  schema: ParseableSchema<T>,
  value: unknown,
  sentences: FieldSentences = {},
): Validation<T> {
  const result = schema.safeParse(value, { error: (issue) => sentenceFor(sentences, issue.path) });
  if (result.success) return { ok: true, data: result.data };
  return { ok: false, errors: problemsToFieldErrors(result.error.issues) };
}

export function serverFieldErrors(problems: Problem[]): FieldErrors {
  return problemsToFieldErrors(problems);
}
