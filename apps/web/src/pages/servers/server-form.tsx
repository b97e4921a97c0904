import { serverInputSchema } from "@imapferry/core/schemas";
import type { JSX } from "solid-js";
import { createSignal, Show } from "solid-js";
import { api } from "../../api/client.ts";
import { errorProblems } from "../../api/errors.ts";
import type { ServerItem } from "../../api/types.ts";
import type { FieldErrors, FieldSentences } from "../../forms/validate.ts";
import { serverFieldErrors, validate } from "../../forms/validate.ts";
import { Field, TextField } from "../../ui/field.tsx";
import { Modal, ModalFormFooter } from "../../ui/modal.tsx";
import { errorText } from "../../ui/states.tsx";
import { toast } from "../../ui/toasts.tsx";
import { ToggleField } from "../../ui/toggle-field.tsx";

type Security = "tls" | "starttls" | "none";
type AdminChoice = "none" | "sasl-authzid" | "login-separator";
const DEFAULT_PORTS: Record<Security, number> = { tls: 993, starttls: 143, none: 143 };

/** What the form says about a field the schema has no sentence for. */
const SERVER_SENTENCES: FieldSentences = {
  name: "A server name has at most 200 characters.",
  host: "A host name has at most 253 characters.",
  port: "Enter the port, a whole number from 1 to 65535 (usually 993 for TLS, 143 for STARTTLS).",
  security: "Choose how the connection is secured.",
  sourceHostLimit:
    "Enter how many migrations may read from this server at once, a whole number from 1 to 1000, or leave it empty for the default.",
  "admin.login": "Enter the admin login (at most 320 characters, not starting with -).",
  "admin.password": "Enter the admin password.",
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
  const [adminMode, setAdminMode] = createSignal<AdminChoice>(initial?.admin?.mode ?? "none");
  const [adminLogin, setAdminLogin] = createSignal(initial?.admin?.login ?? "");
  const [adminPassword, setAdminPassword] = createSignal("");
  const [adminSeparator, setAdminSeparator] = createSignal(initial?.admin?.separator ?? "*");
  /** Editing: the stored admin credentials are resent only when the operator changed that section. */
  const [adminTouched, setAdminTouched] = createSignal(!initial);
  const touch =
    <T,>(set: (value: T) => void) =>
    (value: T) => {
      setAdminTouched(true);
      set(value);
    };
  const [errors, setErrors] = createSignal<FieldErrors>({});
  const [formError, setFormError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  function changeSecurity(next: Security): void {
    // Follow the conventional port unless the operator typed a custom one.
    if (Number(port()) === DEFAULT_PORTS[security()]) setPort(String(DEFAULT_PORTS[next]));
    setSecurity(next);
  }

  function values(): Record<string, unknown> {
    return {
      name: name(),
      host: host(),
      port: port().trim() === "" ? Number.NaN : Number(port()),
      security: security(),
      acceptSelfSigned: acceptSelfSigned(),
      sourceHostLimit: limit().trim() === "" ? null : Number(limit()),
      ...(adminTouched()
        ? {
            admin:
              adminMode() === "none"
                ? null
                : {
                    mode: adminMode(),
                    login: adminLogin(),
                    password: adminPassword(),
                    ...(adminMode() === "login-separator" ? { separator: adminSeparator() } : {}),
                  },
          }
        : {}),
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
      const { admin, ...rest } = checked.data;
      if (initial)
        await api.servers.update.mutate({ id: initial.id, ...rest, ...(adminTouched() ? { admin } : {}) });
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
        <fieldset class="group span-2" data-admin-credentials>
          <legend>Admin credentials</legend>
          <div class="stack">
            <Field
              label="Mode"
              hint="A master user logs in for every mailbox on this server: jobs then need only the mailbox login, no password. A job's own password still wins."
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
                </select>
              )}
            </Field>
            <Show when={adminMode() !== "none"}>
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
                <TextField
                  label="Admin password"
                  error={errors()["admin.password"]}
                  hint={initial?.admin ? "Enter it again to change anything here." : undefined}
                  name="adminPassword"
                  type="password"
                  autocomplete="new-password"
                  placeholder={initial?.admin ? "(unchanged)" : ""}
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
