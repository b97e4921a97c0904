import type { JSX } from "solid-js";
import { createUniqueId, For, Show, splitProps, untrack } from "solid-js";

export interface FieldProps {
  label: string;
  error?: string | undefined;
  hint?: string;
  class?: string;
  /** Receives the generated id so the control and its label are tied together. */
  children: (id: string, describedBy: () => string | undefined) => JSX.Element;
}

export function Field(props: FieldProps): JSX.Element {
  const id = createUniqueId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  function describedBy(): string | undefined {
    if (props.error) return errorId;
    if (props.hint) return hintId;
    return undefined;
  }
  return (
    <div class={`field ${props.class ?? ""}`}>
      <label for={id}>{props.label}</label>
      {untrack(() => props.children(id, describedBy))}
      <Show when={props.error}>
        <div class="error" id={errorId}>
          {props.error}
        </div>
      </Show>
      <Show when={!props.error && props.hint}>
        <div class="hint" id={hintId}>
          {props.hint}
        </div>
      </Show>
    </div>
  );
}

export type TextFieldProps = Omit<FieldProps, "children" | "class"> &
  Omit<JSX.InputHTMLAttributes<HTMLInputElement>, "id" | "class" | "value" | "onInput" | "children"> & {
    name: string;
    value: string;
    /** Called with the input's text on every keystroke. */
    onValue: (value: string) => void;
    /** Extra classes for the field wrapper, e.g. "span-2" in a form grid. */
    fieldClass?: string;
  };

/**
 * A labelled text input that marks itself invalid and points at its error or hint, so every form
 * gets the same accessible wiring. Other input attributes (type, placeholder, …) pass through.
 */
export function TextField(props: TextFieldProps): JSX.Element {
  const [own, input] = splitProps(props, ["label", "error", "hint", "fieldClass", "value", "onValue"]);
  return (
    <Field label={own.label} error={own.error} hint={own.hint} class={own.fieldClass}>
      {(id, describedBy) => (
        <input
          {...input}
          id={id}
          class="input"
          value={own.value}
          aria-invalid={Boolean(own.error)}
          aria-describedby={describedBy()}
          onInput={(e) => own.onValue(e.currentTarget.value)}
        />
      )}
    </Field>
  );
}

export type TextAreaFieldProps = Omit<FieldProps, "children" | "class"> &
  Omit<JSX.TextareaHTMLAttributes<HTMLTextAreaElement>, "id" | "class" | "value" | "onInput" | "children"> & {
    name: string;
    value: string;
    /** Called with the text on every keystroke. */
    onValue: (value: string) => void;
    /** Set in a fixed-width face, for keys and code. @defaultValue false */
    mono?: boolean;
  };

/** A labelled textarea with the same wiring as `TextField`: invalid state, error or hint. */
export function TextAreaField(props: TextAreaFieldProps): JSX.Element {
  const [own, textarea] = splitProps(props, ["label", "error", "hint", "mono", "value", "onValue"]);
  return (
    <Field label={own.label} error={own.error} hint={own.hint}>
      {(id, describedBy) => (
        <textarea
          {...textarea}
          id={id}
          class={own.mono ? "textarea mono" : "textarea"}
          value={own.value}
          aria-invalid={Boolean(own.error)}
          aria-describedby={describedBy()}
          onInput={(e) => own.onValue(e.currentTarget.value)}
        />
      )}
    </Field>
  );
}

export type SecretFieldProps = Omit<TextFieldProps, "type"> & {
  /** A secret is stored already: the empty field then reads "(unchanged)". @defaultValue false */
  stored?: boolean | undefined;
};

/**
 * A write-only secret (a password, a client secret): masked, never filled from what is stored (the
 * API does not return it), and kept out of the browser's saved logins. Placeholder and autocomplete
 * may still be given where the empty field means something else.
 */
export function SecretField(props: SecretFieldProps): JSX.Element {
  const [own, input] = splitProps(props, ["stored"]);
  return (
    <TextField
      autocomplete="new-password"
      placeholder={own.stored ? "(unchanged)" : ""}
      {...input}
      type="password"
    />
  );
}

/**
 * A URL an operator copies from a provider's documentation: not spell-checked, and not autofilled
 * from what the browser remembers of other forms.
 */
export function UrlField(props: TextFieldProps): JSX.Element {
  return <TextField autocomplete="off" spellcheck={false} {...props} />;
}

/** One field of a `TextFieldList`: its name in the form's texts and errors, and the words it shows. */
export type ListedTextField<K extends string> = { name: K } & Pick<
  TextFieldProps,
  "label" | "hint" | "placeholder" | "inputmode"
>;

/**
 * Text fields that differ only in their words, drawn in the table's order: each shows the text typed
 * for its name and the error for its name, so a form states each such field once.
 */
export function TextFieldList<K extends string>(props: {
  fields: readonly ListedTextField<K>[];
  texts: Readonly<Record<K, string>>;
  errors: Readonly<Record<string, string>>;
  onText: (name: K, text: string) => void;
  /** The keyboard for fields that do not name their own. */
  inputmode?: TextFieldProps["inputmode"];
  /** Fields another setting switches off, by name. */
  disabled?: Partial<Record<K, boolean>>;
}): JSX.Element {
  return (
    <For each={props.fields}>
      {(field) => (
        <TextField
          inputmode={props.inputmode}
          {...field}
          error={props.errors[field.name]}
          value={props.texts[field.name]}
          disabled={props.disabled?.[field.name]}
          onValue={(text) => props.onText(field.name, text)}
        />
      )}
    </For>
  );
}
