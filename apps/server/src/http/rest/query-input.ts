import type { z } from "zod";

/**
 * A query string read as a procedure's input: a query string has only text, so each field is turned
 * into what its schema expects (numbers, booleans, repeated keys as arrays) and the schema then
 * validates it as any input. What cannot be read as the expected type stays text, so the schema's
 * own sentence explains what is wrong ("expected number"). Keys the schema does not know are dropped.
 */
export function queryInput(schema: z.ZodObject, params: URLSearchParams): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema.shape)) {
    const values = params.getAll(key);
    if (values.length === 0) continue;
    input[key] = coerce(field as z.ZodType, values);
  }
  return input;
}

type Kind = "number" | "boolean" | "array" | "text";

/** What a field takes, looking through optional, nullable, default and refinement wrappers. */
function kindsOf(field: z.ZodType): Kind[] {
  const def = field._zod.def as {
    type: string;
    innerType?: z.ZodType;
    in?: z.ZodType;
    options?: z.ZodType[];
  };
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
      return def.innerType ? kindsOf(def.innerType) : ["text"];
    case "pipe":
      return def.in ? kindsOf(def.in) : ["text"];
    case "union":
      return (def.options ?? []).flatMap(kindsOf);
    case "number":
    case "int":
      return ["number"];
    case "boolean":
      return ["boolean"];
    case "array":
      return ["array"];
    default:
      return ["text"];
  }
}

function coerce(field: z.ZodType, values: string[]): unknown {
  const kinds = kindsOf(field);
  // `status=queued&status=running`, or one value where a single one is allowed too.
  if (kinds.includes("array") && (values.length > 1 || kinds.length === 1)) return values;
  const value = values[values.length - 1] ?? "";
  if (kinds.includes("number") && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (kinds.includes("boolean") && (value === "true" || value === "false")) return value === "true";
  return value;
}
