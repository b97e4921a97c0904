import { SERVER_PRESETS, serverInputSchema } from "@imapferry/core/schemas";
import type { JSX } from "solid-js";
import { createSignal, For, Show } from "solid-js";
import { createStore } from "solid-js/store";
import { api } from "../../api/client.ts";
import { errorProblems } from "../../api/errors.ts";
import type { ServerItem } from "../../api/types.ts";
import type { FieldErrors, FieldSentences } from "../../forms/validate.ts";
import { serverFieldErrors, validate } from "../../forms/validate.ts";
import type { ListedTextField } from "../../ui/field.tsx";
import { Field, SecretField, TextAreaField, TextField, TextFieldList, UrlField } from "../../ui/field.tsx";
import { Modal, ModalFormFooter } from "../../ui/modal.tsx";
import { errorText } from "../../ui/states.tsx";
import { toast } from "../../ui/toasts.tsx";
import { ToggleField } from "../../ui/toggle-field.tsx";
import { createConnectClientState } from "./connect-client-fields.tsx";

type Security = "tls" | "starttls" | "none";
type AdminChoice = "none" | "sasl-authzid" | "login-separator" | "google-service-account" | "microsoft-app";
const MASTER_MODES: readonly AdminChoice[] = ["sasl-authzid", "login-separator"];
const DEFAULT_PORTS: Record<Security, number> = { tls: 993, starttls: 143, none: 143 };

type ProviderLimit = "dailyDownloadBytes" | "dailyUploadBytes" | "maxConnections";

/** A provider's per-account limits; an empty field means none. */
const PROVIDER_LIMIT_FIELDS: readonly ListedTextField<ProviderLimit>[] = [
  {
    name: "dailyDownloadBytes",
    label: "Daily download budget (MB)",
    hint: "Read from each source account per window. Empty = no limit.",
    inputmode: "decimal",
    placeholder: "no limit",
  },
  {
    name: "dailyUploadBytes",
    label: "Daily upload budget (MB)",
    hint: "Written to each destination account per window. Empty = no limit.",
    inputmode: "decimal",
    placeholder: "no limit",
  },
  {
    name: "maxConnections",
    label: "Connections per account",
    hint: "Most IMAP connections a run opens to one account. Empty = the engine's own.",
    inputmode: "numeric",
    placeholder: "engine default",
  },
];

/** What the form says about a field the schema has no sentence for. */
const SERVER_SENTENCES: FieldSentences = {
  name: "A server name has at most 200 characters.",
  host: "A host name has at most 253 characters.",
  port: "Enter the port, a whole number from 1 to 65535 (usually 993 for TLS, 143 for STARTTLS).",
  security: "Choose how the connection is secured.",
  sourceHostLimit:
    "Enter how many migrations may read from this server at once, a whole number from 1 to 1000, or leave it empty for the default.",
  dailyDownloadBytes: "Enter the daily download budget in MB (at least 1), or leave it empty for no limit.",
  dailyUploadBytes: "Enter the daily upload budget in MB (at least 1), or leave it empty for no limit.",
  maxConnections: "Enter the connections per account, a whole number from 1 to 100, or leave it empty.",
  "admin.login": "Enter the admin login (at most 320 characters, not starting with -).",
  "admin.password": "Enter the admin password.",
  "admin.serviceAccountKey": "Paste the service account's JSON key.",
  "admin.clientSecret": "Enter the app's client secret.",
  "admin.tokenUrl": "The token endpoint must be an http:// or https:// URL.",
};

export function ServerFormModal(props: {
  server: ServerItem | null;
  onClose: () => void;
  onSaved: () => void;
}): JSX.Element {
  const initial = props.server;
  const [name, setName] = createSignal(initial?.name ?? "");
  const [host, setHost] = createSignal(initial?.host ?? "");
  const [port, setPort] = createSignal(String(initial?.port ?? 993));
  const [security, setSecurity] = createSignal<Security>(
    (initial?.security as Security | undefined) ?? "tls",
  );
  const [acceptSelfSigned, setAcceptSelfSigned] = createSignal(initial?.acceptSelfSigned ?? false);
  const [limit, setLimit] = createSignal(initial?.sourceHostLimit ? String(initial.sourceHostLimit) : "");
  // Budgets are entered in MB (10^6 bytes, as Google and Microsoft publish their limits).
  const [limits, setLimits] = createStore<Record<ProviderLimit, string>>({
    dailyDownloadBytes: megabytesText(initial?.dailyDownloadBytes),
    dailyUploadBytes: megabytesText(initial?.dailyUploadBytes),
    maxConnections: initial?.maxConnections ? String(initial.maxConnections) : "",
  });
  const [adminMode, setAdminMode] = createSignal<AdminChoice>(initial?.admin?.mode ?? "none");
  const stored = initial?.admin && "login" in initial.admin ? initial.admin : null;
  const [adminLogin, setAdminLogin] = createSignal(stored?.login ?? "");
  const [adminPassword, setAdminPassword] = createSignal("");
  const [adminSeparator, setAdminSeparator] = createSignal(stored?.separator ?? "*");
  // OAuth2 modes: every value is write-only, so an edit starts empty and "(unchanged)".
  const [serviceAccountKey, setServiceAccountKey] = createSignal("");
  const [tenantId, setTenantId] = createSignal("");
  const [clientId, setClientId] = createSignal("");
  const [clientSecret, setClientSecret] = createSignal("");
  const [tokenUrl, setTokenUrl] = createSignal("");
  /** Editing: the stored admin credentials are resent only when the operator changed that section. */
  const [adminTouched, setAdminTouched] = createSignal(!initial);
  const touch =
    <T,>(set: (value: T) => void) =>
    (value: T) => {
      setAdminTouched(true);
      set(value);
    };
  const connect = createConnectClientState(initial ? initial.connect : undefined);
  const [errors, setErrors] = createSignal<FieldErrors>({});
  const [formError, setFormError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  /** A provider's published per-account limits (and its address, where none is entered yet). */
  function applyPreset(name: string): void {
    const preset = SERVER_PRESETS[name as keyof typeof SERVER_PRESETS];
    if (!preset) return;
    if (host().trim() === "") {
      setHost(preset.host);
      setPort(String(preset.port));
      setSecurity(preset.security);
    }
    setLimits({
      dailyDownloadBytes: megabytesText(preset.dailyDownloadBytes),
      dailyUploadBytes: megabytesText(preset.dailyUploadBytes),
      maxConnections: String(preset.maxConnections),
    });
  }

  function changeSecurity(next: Security): void {
    // Follow the conventional port unless the operator typed a custom one.
    if (Number(port()) === DEFAULT_PORTS[security()]) setPort(String(DEFAULT_PORTS[next]));
    setSecurity(next);
  }

  function adminValue(): Record<string, unknown> | null {
    const mode = adminMode();
    const endpoint = tokenUrl().trim() ? { tokenUrl: tokenUrl().trim() } : {};
    if (mode === "none") return null;
    if (mode === "google-service-account")
      return { mode, serviceAccountKey: serviceAccountKey(), ...endpoint };
    if (mode === "microsoft-app")
      return { mode, tenantId: tenantId(), clientId: clientId(), clientSecret: clientSecret(), ...endpoint };
    return {
      mode,
      login: adminLogin(),
      password: adminPassword(),
      ...(mode === "login-separator" ? { separator: adminSeparator() } : {}),
    };
  }

  function values(): Record<string, unknown> {
    return {
      name: name(),
      host: host(),
      port: port().trim() === "" ? Number.NaN : Number(port()),
      security: security(),
      acceptSelfSigned: acceptSelfSigned(),
      sourceHostLimit: limit().trim() === "" ? null : Number(limit()),
      dailyDownloadBytes: bytesFromMegabytes(limits.dailyDownloadBytes),
      dailyUploadBytes: bytesFromMegabytes(limits.dailyUploadBytes),
      maxConnections: limits.maxConnections.trim() === "" ? null : Number(limits.maxConnections),
      ...(adminTouched() ? { admin: adminValue() } : {}),
      ...connect.value(),
    };
  }

  async function handleSubmit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const checked = validate(serverInputSchema, values(), SERVER_SENTENCES);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    setFormError(null);
    setBusy(true);
    try {
      // An untouched admin section is left out of an edit: the stored credentials stay as they are.
      const { admin, connect: connectClient, ...rest } = checked.data;
      if (initial)
        await api.servers.update.mutate({
          id: initial.id,
          ...rest,
          ...(adminTouched() ? { admin } : {}),
          ...(connect.touched() ? { connect: connectClient } : {}),
        });
      else await api.servers.create.mutate(checked.data);
      toast("success", initial ? "Server saved" : "Server added", checked.data.name);
      props.onSaved();
      props.onClose();
    } catch (e: unknown) {
      setErrors(serverFieldErrors(errorProblems(e)));
      setFormError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      title={initial ? `Edit ${initial.name}` : "Add server"}
      onClose={props.onClose}
      footer={
        <ModalFormFooter form="server-form" busy={busy()} onDismiss={props.onClose}>
          {busy() ? "Saving…" : initial ? "Save server" : "Add server"}
        </ModalFormFooter>
      }
    >
      <form id="server-form" class="form-grid" onSubmit={(e) => void handleSubmit(e)} noValidate>
        <Show when={formError()}>
          <div class="form-error span-2" role="alert">
            {formError()}
          </div>
        </Show>
        <TextField
          label="Name"
          fieldClass="span-2"
          error={errors().name}
          hint="How jobs and the CSV import refer to it."
          name="name"
          value={name()}
          placeholder="Old provider"
          onValue={setName}
        />
        <TextField
          label="Host"
          error={errors().host}
          name="host"
          value={host()}
          placeholder="imap.example.com"
          autocapitalize="off"
          spellcheck={false}
          onValue={setHost}
        />
        <TextField
          label="Port"
          error={errors().port}
          name="port"
          inputmode="numeric"
          value={port()}
          onValue={setPort}
        />
        <Field label="Security" error={errors().security}>
          {(id) => (
            <select
              id={id}
              class="select"
              name="security"
              value={security()}
              onChange={(e) => changeSecurity(e.currentTarget.value as Security)}
            >
              <option value="tls">TLS (implicit, usually port 993)</option>
              <option value="starttls">STARTTLS (usually port 143)</option>
              <option value="none">None — plain text</option>
            </select>
          )}
        </Field>
        <TextField
          label="Source connection limit"
          error={errors().sourceHostLimit}
          hint="Migrations reading from it at once. Empty = the global default."
          name="sourceHostLimit"
          inputmode="numeric"
          placeholder="default"
          value={limit()}
          onValue={setLimit}
        />
        <ToggleField
          class="span-2"
          label="Accept a self-signed certificate"
          description="Only for servers you control: the certificate is not verified."
          name="acceptSelfSigned"
          checked={acceptSelfSigned()}
          disabled={security() === "none"}
          onToggle={setAcceptSelfSigned}
        />
        <fieldset class="group span-2" data-provider-limits>
          <legend>Provider limits</legend>
          <div class="form-grid">
            <Field
              label="Fill in a provider's limits"
              class="span-2"
              hint="A run that reaches a budget stops and the job waits until the budget window resets (a day by default, in Settings)."
            >
              {(id, describedBy) => (
                <select
                  id={id}
                  class="select"
                  name="preset"
                  aria-describedby={describedBy()}
                  value=""
                  onChange={(e) => applyPreset(e.currentTarget.value)}
                >
                  <option value="">Choose a provider…</option>
                  <For each={Object.entries(SERVER_PRESETS)}>
                    {([key, preset]) => <option value={key}>{preset.label}</option>}
                  </For>
                </select>
              )}
            </Field>
            <TextFieldList
              fields={PROVIDER_LIMIT_FIELDS}
              texts={limits}
              errors={errors()}
              onText={setLimits}
            />
          </div>
        </fieldset>
        <fieldset class="group span-2" data-admin-credentials>
          <legend>Admin credentials</legend>
          <div class="stack">
            <Field
              label="Mode"
              hint="A master user, or an OAuth2 service account or app, logs in for every mailbox on this server: jobs then need only the mailbox login, no password. A job's own password still wins."
            >
              {(id, describedBy) => (
                <select
                  id={id}
                  class="select"
                  name="adminMode"
                  aria-describedby={describedBy()}
                  value={adminMode()}
                  onChange={(e) => touch(setAdminMode)(e.currentTarget.value as AdminChoice)}
                >
                  <option value="none">None — every job carries its mailbox password</option>
                  <option value="sasl-authzid">
                    Master user, SASL PLAIN with authorization identity (Dovecot, Cyrus)
                  </option>
                  <option value="login-separator">Master user, as mailbox*admin (Dovecot separator)</option>
                  <option value="google-service-account">
                    Google service account (domain-wide delegation, OAuth2)
                  </option>
                  <option value="microsoft-app">Microsoft 365 app (client credentials, OAuth2)</option>
                </select>
              )}
            </Field>
            <Show when={adminMode() === "google-service-account"}>
              <TextAreaField
                label="Service account key (JSON)"
                error={errors()["admin.serviceAccountKey"]}
                hint="The key file from the Google Cloud console. Domain-wide delegation must grant https://mail.google.com/."
                name="serviceAccountKey"
                mono
                rows={4}
                spellcheck={false}
                placeholder={initial?.admin ? "(unchanged)" : '{ "type": "service_account", … }'}
                value={serviceAccountKey()}
                onValue={touch(setServiceAccountKey)}
              />
            </Show>
            <Show when={adminMode() === "microsoft-app"}>
              <div class="grid-2">
                <TextField
                  label="Tenant id"
                  error={errors()["admin.tenantId"]}
                  name="tenantId"
                  value={tenantId()}
                  autocomplete="off"
                  spellcheck={false}
                  onValue={touch(setTenantId)}
                />
                <TextField
                  label="Client id"
                  error={errors()["admin.clientId"]}
                  name="clientId"
                  value={clientId()}
                  autocomplete="off"
                  spellcheck={false}
                  onValue={touch(setClientId)}
                />
              </div>
              <SecretField
                label="Client secret"
                error={errors()["admin.clientSecret"]}
                hint="The app needs IMAP.AccessAsApp, and an Exchange service principal with access to the mailboxes."
                name="clientSecret"
                stored={Boolean(initial?.admin)}
                value={clientSecret()}
                onValue={touch(setClientSecret)}
              />
            </Show>
            <Show when={adminMode() === "google-service-account" || adminMode() === "microsoft-app"}>
              <UrlField
                label="Token endpoint (optional)"
                error={errors()["admin.tokenUrl"]}
                hint="Leave empty for the provider's own."
                name="tokenUrl"
                value={tokenUrl()}
                onValue={touch(setTokenUrl)}
              />
            </Show>
            <Show when={MASTER_MODES.includes(adminMode())}>
              <div class="grid-2">
                <TextField
                  label="Admin user"
                  error={errors()["admin.login"]}
                  name="adminLogin"
                  value={adminLogin()}
                  autocomplete="off"
                  autocapitalize="off"
                  spellcheck={false}
                  onValue={touch(setAdminLogin)}
                />
                <SecretField
                  label="Admin password"
                  error={errors()["admin.password"]}
                  hint={initial?.admin ? "Enter it again to change anything here." : undefined}
                  name="adminPassword"
                  stored={Boolean(initial?.admin)}
                  value={adminPassword()}
                  onValue={touch(setAdminPassword)}
                />
              </div>
              <Show when={adminMode() === "login-separator"}>
                <TextField
                  label="Separator"
                  error={errors()["admin.separator"]}
                  hint="Between mailbox and admin login: Dovecot's auth_master_user_separator."
                  name="adminSeparator"
                  value={adminSeparator()}
                  onValue={touch(setAdminSeparator)}
                />
              </Show>
            </Show>
          </div>
        </fieldset>
        {connect.fields(errors())}
        <Show when={initial}>
          <div class="callout span-2 small">
            While jobs hold passwords for this server, its host, port, security and certificate setting cannot
            change: a stored password only ever goes where it was entered for. Add a new server for a new
            address and move the jobs to it with their passwords.
          </div>
        </Show>
        <Show when={security() === "none"}>
          <div class="callout callout-warn span-2 small">
            Without TLS, passwords and mail cross the network in clear text. Use it only on a trusted network.
          </div>
        </Show>
      </form>
    </Modal>
  );
}

/** "2500" for 2,500,000,000 bytes; "" for no budget. */
function megabytesText(bytes: number | null | undefined): string {
  return bytes ? String(bytes / 1_000_000) : "";
}

/** Bytes for an MB figure as typed ("2500", "2,5"); NaN for text that is not one (the schema names it). */
function bytesFromMegabytes(text: string): number | null {
  const trimmed = text.trim().replace(",", ".");
  if (trimmed === "") return null;
  if (!/^\d+(?:\.\d+)?$/.test(trimmed)) return Number.NaN;
  return Math.round(Number(trimmed) * 1_000_000);
}
