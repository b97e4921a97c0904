import type { JSX } from "solid-js";
import { createSignal, Show } from "solid-js";
import type { ServerItem } from "../../api/types.ts";
import type { FieldErrors } from "../../forms/validate.ts";
import { Field, SecretField, TextField, UrlField } from "../../ui/field.tsx";

type ProviderChoice = "none" | "google" | "microsoft";

export interface ConnectClientState {
  /** `{ connect }` for the server input: always on a new server, only when changed on an edit. */
  value(): { connect?: Record<string, unknown> | null };
  touched(): boolean;
  fields(errors: FieldErrors): JSX.Element;
}

/**
 * The server's OAuth client for "Connect with Google / Microsoft" on job sides. Its own signals, so the
 * server form only asks for the value; the secret is write-only (kept when left empty and the client
 * id stays the same).
 */
export function createConnectClientState(initial: ServerItem["connect"] | undefined): ConnectClientState {
  const [provider, setProvider] = createSignal<ProviderChoice>(initial?.provider ?? "none");
  const [clientId, setClientId] = createSignal(initial?.clientId ?? "");
  const [clientSecret, setClientSecret] = createSignal("");
  const [authorizeUrl, setAuthorizeUrl] = createSignal(initial?.authorizeUrl ?? "");
  const [tokenUrl, setTokenUrl] = createSignal(initial?.tokenUrl ?? "");
  const [touched, setTouched] = createSignal(initial === undefined);
  const touch =
    <T,>(set: (value: T) => void) =>
    (value: T) => {
      setTouched(true);
      set(value);
    };
  const optional = (key: string, value: string) => (value.trim() ? { [key]: value.trim() } : {});

  function value() {
    if (!touched()) return {};
    const chosen = provider();
    if (chosen === "none") return { connect: null };
    return {
      connect: {
        provider: chosen,
        clientId: clientId(),
        ...optional("clientSecret", clientSecret()),
        ...optional("authorizeUrl", authorizeUrl()),
        ...optional("tokenUrl", tokenUrl()),
      },
    };
  }

  function fields(errors: FieldErrors): JSX.Element {
    return (
      <fieldset class="group span-2" data-connect-client>
        <legend>Connect with Google / Microsoft</legend>
        <div class="stack">
          <Field
            label="OAuth client"
            hint={`Mailbox owners sign in to this client from a job's "Connect" button, instead of giving a password. Register ${window.location.origin}/oauth2/callback as its redirect URI.`}
          >
            {(id, describedBy) => (
              <select
                id={id}
                class="select"
                name="connectProvider"
                aria-describedby={describedBy()}
                value={provider()}
                onChange={(e) => touch(setProvider)(e.currentTarget.value as ProviderChoice)}
              >
                <option value="none">None</option>
                <option value="google">Google (Gmail, Workspace)</option>
                <option value="microsoft">Microsoft (Outlook.com, Microsoft 365)</option>
              </select>
            )}
          </Field>
          <Show when={provider() !== "none"}>
            <div class="grid-2">
              <TextField
                label="Client id"
                error={errors["connect.clientId"]}
                name="connectClientId"
                value={clientId()}
                autocomplete="off"
                spellcheck={false}
                onValue={touch(setClientId)}
              />
              <SecretField
                label="Client secret (web clients)"
                error={errors["connect.clientSecret"]}
                hint="Leave empty for a public client."
                name="connectClientSecret"
                stored={Boolean(initial?.confidential)}
                value={clientSecret()}
                onValue={touch(setClientSecret)}
              />
              <UrlField
                label="Authorization endpoint (optional)"
                error={errors["connect.authorizeUrl"]}
                hint="Leave empty for the provider's own."
                name="connectAuthorizeUrl"
                value={authorizeUrl()}
                onValue={touch(setAuthorizeUrl)}
              />
              <UrlField
                label="Token endpoint (optional)"
                error={errors["connect.tokenUrl"]}
                hint="Leave empty for the provider's own."
                name="connectTokenUrl"
                value={tokenUrl()}
                onValue={touch(setTokenUrl)}
              />
            </div>
          </Show>
        </div>
      </fieldset>
    );
  }

  return { value, touched, fields };
}
