import { engineOptionsSchema } from "@imapferry/core/schemas";
import type { JSX } from "solid-js";
import { For, Match, Switch } from "solid-js";
import { formatByteSize, parseByteSize } from "../../forms/byte-size.ts";
import type { FieldErrors, FieldSentences } from "../../forms/validate.ts";
import { sentenceFor } from "../../forms/validate.ts";

/**
 * The advanced options form is generated from core's allow-list schema (its fields, kinds and
 * `.describe()` texts), so an option added there appears here without a panel change and nothing
 * outside the allow-list can be entered.
 */
type Kind =
  | { type: "boolean"; defaultValue: boolean }
  | { type: "number" }
  | { type: "size"; rate: boolean }
  | { type: "string" }
  | { type: "enum"; values: string[] }
  | { type: "list" }
  | { type: "mapping" };

interface OptionField {
  key: string;
  label: string;
  description: string;
  kind: Kind;
}

interface ZodDefLike {
  type?: string;
  innerType?: ZodLike;
  defaultValue?: unknown;
  element?: ZodLike;
  entries?: Record<string, string>;
}
interface ZodLike {
  _zod?: { def?: ZodDefLike };
  description?: string;
}

function kindOf(schema: ZodLike): Kind | null {
  let current: ZodLike | undefined = schema;
  let defaultValue: unknown;
  // Unwrap optional()/default() wrappers down to the value's own type.
  for (let i = 0; i < 5 && current; i++) {
    const def: ZodDefLike | undefined = current._zod?.def;
    if (def?.type === "optional" || def?.type === "default" || def?.type === "nullable") {
      if (def.type === "default") defaultValue = def.defaultValue;
      current = def.innerType;
      continue;
    }
    break;
  }
  const def = current?._zod?.def;
  switch (def?.type) {
    case "boolean":
      return { type: "boolean", defaultValue: defaultValue === true };
    case "number":
      return { type: "number" };
    case "string":
      return { type: "string" };
    case "enum":
      return { type: "enum", values: Object.values(def.entries ?? {}) };
    case "array":
      return def.element?._zod?.def?.type === "object" ? { type: "mapping" } : { type: "list" };
    default:
      return null;
  }
}

function labelOf(key: string): string {
  const words = key.replace(/([A-Z])/g, " $1").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Byte counts (`…Bytes`, `…BytesPerSecond`) are edited as sizes people write ("25 MB", "2 MB/s"),
 * not as raw bytes; the schema still receives bytes.
 */
function sizeKindOf(key: string, kind: Kind): Kind {
  if (kind.type !== "number") return kind;
  if (key.endsWith("BytesPerSecond")) return { type: "size", rate: true };
  if (key.endsWith("Bytes")) return { type: "size", rate: false };
  return kind;
}

function describeFields(): OptionField[] {
  const shape = (engineOptionsSchema as unknown as { shape?: Record<string, ZodLike> }).shape ?? {};
  const fields: OptionField[] = [];
  for (const [key, schema] of Object.entries(shape)) {
    const found = kindOf(schema);
    if (!found) continue;
    const kind = sizeKindOf(key, found);
    const description = schema.description ?? "";
    if (kind.type === "size")
      fields.push({
        key,
        label: labelOf(key).replace(/ bytes$/, " size"),
        description: `${description.replace(/ \(bytes\)\.$/, ".")} ${kind.rate ? "Such as 2 MB/s." : "Such as 25 MB."}`,
        kind,
      });
    else fields.push({ key, label: labelOf(key), description, kind });
  }
  return fields;
}

const FIELDS = describeFields();

/** What the editor says about an option the schema has no sentence for (a number that is not one). */
const OPTION_SENTENCES: FieldSentences = Object.fromEntries(
  FIELDS.flatMap((field): [string, string][] => {
    if (field.kind.type === "size")
      return [
        [
          field.key,
          field.kind.rate
            ? "Enter a rate such as 2 MB/s or 500 KB/s."
            : "Enter a size such as 25 MB or 500 KB.",
        ],
      ];
    if (field.kind.type === "number") return [[field.key, `${field.label} must be a number.`]];
    return [];
  }),
);

/**
 * Lists and folder mappings are edited as text, one entry per line; each kind says how its value
 * becomes that text and back.
 */
interface LinesCodec {
  placeholder: string;
  format: (value: unknown) => string;
  parse: (text: string) => unknown[];
}

const LINES_CODECS: Record<"list" | "mapping", LinesCodec> = {
  list: {
    placeholder: "One folder per line",
    format: (value) => (Array.isArray(value) ? value.map(String).join("\n") : ""),
    parse: (text) =>
      text
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean),
  },
  mapping: {
    placeholder: "Source folder => Destination folder, one per line",
    format: (value) => {
      if (!Array.isArray(value)) return "";
      return value
        .map((entry) => {
          const m = entry as { from?: unknown; to?: unknown };
          return `${String(m.from ?? "")} => ${String(m.to ?? "")}`;
        })
        .join("\n");
    },
    parse: (text) =>
      text
        .split("\n")
        .map((l) => l.split("=>").map((p) => p.trim()))
        .filter((parts) => parts[0])
        .map((parts) => ({ from: parts[0] ?? "", to: parts[1] ?? "" })),
  },
};

function linesCodecOf(kind: Kind): LinesCodec | undefined {
  return kind.type === "list" || kind.type === "mapping" ? LINES_CODECS[kind.type] : undefined;
}

export function EngineOptionsFields(props: {
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown>) => void;
  errors: FieldErrors;
}): JSX.Element {
  function set(key: string, next: unknown): void {
    const copy = { ...props.value };
    if (next === undefined || next === "" || (Array.isArray(next) && next.length === 0)) delete copy[key];
    else copy[key] = next;
    props.onChange(copy);
  }
  const booleans = FIELDS.filter((f) => f.kind.type === "boolean");
  const others = FIELDS.filter((f) => f.kind.type !== "boolean");

  return (
    <div class="stack" data-engine-options>
      <div class="form-grid">
        <For each={booleans}>
          {(field) => (
            <label class="check" title={field.description}>
              <input
                type="checkbox"
                name={`options.${field.key}`}
                checked={
                  props.value[field.key] === undefined
                    ? (field.kind as { defaultValue: boolean }).defaultValue
                    : props.value[field.key] === true
                }
                onChange={(e) => set(field.key, e.currentTarget.checked)}
              />
              <span>
                {field.label}
                <span class="muted small"> — {field.description}</span>
              </span>
            </label>
          )}
        </For>
      </div>
      <div class="form-grid">
        <For each={others}>
          {(field) => {
            const id = `engine-option-${field.key}`;
            const error = () => props.errors[`options.${field.key}`];
            return (
              <div class={linesCodecOf(field.kind) ? "field span-2" : "field"}>
                <label for={id}>{field.label}</label>
                <Switch>
                  <Match when={field.kind.type === "number"}>
                    <input
                      id={id}
                      class="input"
                      inputmode="decimal"
                      name={`options.${field.key}`}
                      value={props.value[field.key] === undefined ? "" : String(props.value[field.key])}
                      aria-invalid={Boolean(error())}
                      onChange={(e) =>
                        set(
                          field.key,
                          e.currentTarget.value.trim() === "" ? undefined : Number(e.currentTarget.value),
                        )
                      }
                    />
                  </Match>
                  <Match when={field.kind.type === "size" && field.kind}>
                    {(size) => (
                      <input
                        id={id}
                        class="input"
                        name={`options.${field.key}`}
                        placeholder={size().rate ? "e.g. 2 MB/s" : "e.g. 25 MB"}
                        value={sizeText(props.value[field.key], size().rate)}
                        aria-invalid={Boolean(error())}
                        onChange={(e) => {
                          const text = e.currentTarget.value.trim();
                          // Text that is not a size is kept as typed, so the schema refuses it with the sentence.
                          set(field.key, text === "" ? undefined : (parseByteSize(text) ?? text));
                        }}
                      />
                    )}
                  </Match>
                  <Match when={field.kind.type === "string"}>
                    <input
                      id={id}
                      class="input"
                      name={`options.${field.key}`}
                      value={typeof props.value[field.key] === "string" ? String(props.value[field.key]) : ""}
                      aria-invalid={Boolean(error())}
                      onChange={(e) => set(field.key, e.currentTarget.value || undefined)}
                    />
                  </Match>
                  <Match when={field.kind.type === "enum"}>
                    <select
                      id={id}
                      class="select"
                      name={`options.${field.key}`}
                      value={typeof props.value[field.key] === "string" ? String(props.value[field.key]) : ""}
                      onChange={(e) => set(field.key, e.currentTarget.value || undefined)}
                    >
                      <option value="">None</option>
                      <For each={(field.kind as { values: string[] }).values}>
                        {(v) => <option value={v}>{v}</option>}
                      </For>
                    </select>
                  </Match>
                  <Match when={linesCodecOf(field.kind)}>
                    {(codec) => (
                      <textarea
                        id={id}
                        class="textarea"
                        rows={2}
                        name={`options.${field.key}`}
                        placeholder={codec().placeholder}
                        value={codec().format(props.value[field.key])}
                        aria-invalid={Boolean(error())}
                        onChange={(e) => set(field.key, codec().parse(e.currentTarget.value))}
                      />
                    )}
                  </Match>
                </Switch>
                {error() ? <div class="error">{error()}</div> : <div class="hint">{field.description}</div>}
              </div>
            );
          }}
        </For>
      </div>
    </div>
  );
}

/** A stored size as the editor shows it: "25 MB"; text that was not a size stays as typed. */
function sizeText(value: unknown, rate: boolean): string {
  if (typeof value === "number") return formatByteSize(value, rate);
  return typeof value === "string" ? value : "";
}

/** Validates the options with the allow-list schema; problems are keyed "options.<field>". */
export function validateEngineOptions(value: Record<string, unknown>): FieldErrors {
  const result = engineOptionsSchema.safeParse(value, {
    error: (issue) => sentenceFor(OPTION_SENTENCES, issue.path),
  });
  if (result.success) return {};
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const key = ["options", ...issue.path.map(String)].join(".");
    if (!(key in errors)) errors[key] = issue.message;
  }
  return errors;
}
