import { createJobInputSchema, editJobInputSchema, passwordRequiredSentence } from "@imapferry/core/schemas";
import type { JSX } from "solid-js";
import { createResource, createSignal, For, Show } from "solid-js";
import { api } from "../../api/client.ts";
import { errorProblems } from "../../api/errors.ts";
import type { JobItem, ServerItem } from "../../api/types.ts";
import type { FieldErrors, FieldSentences } from "../../forms/validate.ts";
import { serverFieldErrors, validate } from "../../forms/validate.ts";
import { navigate } from "../../router.tsx";
import { Field, TextField } from "../../ui/field.tsx";
import { Modal, ModalFormFooter } from "../../ui/modal.tsx";
import { errorText } from "../../ui/states.tsx";
import { toast } from "../../ui/toasts.tsx";
import { ToggleField } from "../../ui/toggle-field.tsx";
import { ConnectAccount, type ConnectedAccount } from "./connect-account.tsx";
import { EngineOptionsFields, validateEngineOptions } from "./engine-options.tsx";

/** What the form says about a field the schema has no sentence for (a server not chosen). */
const JOB_SENTENCES: FieldSentences = {
  sourceServerId: "Choose the source server.",
  destServerId: "Choose the destination server.",
  name: "A job name has at most 200 characters.",
};

/** A string signal's getter and setter, as `createSignal` returns them. */
type TextSignal = [() => string, (value: string) => void];

export interface JobFormProps {
  /** The job being edited; absent for a new job. */
  job?: JobItem;
  onClose: () => void;
  onSaved?: (job: { id: number }) => void;
}

/**
 * New job and Edit job. In edit mode the password fields start empty with an "(unchanged)"
 * placeholder and are sent only when typed into: the stored passwords are never shown or resent.
 */
export function JobFormModal(props: JobFormProps): JSX.Element {
  const editing = props.job;
  const [servers] = createResource(async function loadServers(): Promise<ServerItem[]> {
    return api.servers.list.query();
  });
  const [name, setName] = createSignal(editing?.name ?? "");
  const [sourceServerId, setSourceServerId] = createSignal(editing ? String(editing.sourceServerId) : "");
  const [sourceEmail, setSourceEmail] = createSignal(editing?.sourceEmail ?? "");
  const [sourcePassword, setSourcePassword] = createSignal("");
  const [destServerId, setDestServerId] = createSignal(editing ? String(editing.destServerId) : "");
  const [destEmail, setDestEmail] = createSignal(editing?.destEmail ?? "");
  const [destPassword, setDestPassword] = createSignal("");
  // A side connected with "Connect with Google / Microsoft" logs in with that grant instead of a password.
  const [sourceConnected, setSourceConnected] = createSignal<ConnectedAccount | null>(null);
  const [destConnected, setDestConnected] = createSignal<ConnectedAccount | null>(null);
  /** A connection counts only for the server it was made with (the side's server may have changed since). */
  const connectedOn = (connected: ConnectedAccount | null, serverId: string) =>
    connected && String(connected.serverId) === serverId ? connected : null;
  // A new job may ask the source mailbox's owner for its password through a single-use link.
  const [askOwner, setAskOwner] = createSignal(false);
  const [ownerEmail, setOwnerEmail] = createSignal("");
  const [dryRun, setDryRun] = createSignal(editing?.dryRun ?? true);
  const [options, setOptions] = createSignal<Record<string, unknown>>({ ...(editing?.options ?? {}) });
  const [errors, setErrors] = createSignal<FieldErrors>({});
  const [formError, setFormError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  /**
   * Source and destination name one mailbox: the same login on the same server entry, or on two
   * entries for one host and port. Copying a mailbox onto itself only duplicates nothing or confuses.
   */
  const sameMailbox = () => {
    const login = sourceEmail().trim().toLowerCase();
    if (login === "" || login !== destEmail().trim().toLowerCase()) return false;
    if (sourceServerId() === "" || destServerId() === "") return false;
    if (sourceServerId() === destServerId()) return true;
    const list = servers() ?? [];
    const source = list.find((s) => String(s.id) === sourceServerId());
    const dest = list.find((s) => String(s.id) === destServerId());
    return Boolean(
      source && dest && source.host.toLowerCase() === dest.host.toLowerCase() && source.port === dest.port,
    );
  };

  /** The chosen server of a side, when the list has it. */
  const serverOf = (id: string) => (servers() ?? []).find((s) => String(s.id) === id);

  /** A new job's sides without a password whose server has no admin credentials to log in with. */
  function missingPasswords(): FieldErrors {
    const errors: FieldErrors = {};
    const sides = [
      {
        side: "source",
        field: "sourcePassword",
        serverId: sourceServerId(),
        password: sourcePassword(),
        connected: connectedOn(sourceConnected(), sourceServerId()),
      },
      {
        side: "destination",
        field: "destPassword",
        serverId: destServerId(),
        password: destPassword(),
        connected: connectedOn(destConnected(), destServerId()),
      },
    ] as const;
    for (const s of sides) {
      if (s.side === "source" && askOwner()) continue;
      const server = serverOf(s.serverId);
      if (!s.password && !s.connected && server && !server.admin)
        errors[s.field] = passwordRequiredSentence(s.side);
    }
    return errors;
  }

  function idOrNaN(value: string): number {
    return value === "" ? Number.NaN : Number(value);
  }

  async function handleSubmit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    setFormError(null);
    const common = {
      ...(name().trim() ? { name: name().trim() } : {}),
      sourceServerId: idOrNaN(sourceServerId()),
      sourceEmail: sourceEmail(),
      destServerId: idOrNaN(destServerId()),
      destEmail: destEmail(),
      dryRun: dryRun(),
      options: options(),
    };
    setBusy(true);
    try {
      if (editing) {
        const input = {
          id: editing.id,
          ...common,
          ...(sourcePassword() ? { sourcePassword: sourcePassword() } : {}),
          ...(destPassword() ? { destPassword: destPassword() } : {}),
        };
        const checked = validate(editJobInputSchema, input, JOB_SENTENCES);
        const optionErrors = validateEngineOptions(options());
        if (!checked.ok || Object.keys(optionErrors).length > 0) {
          setErrors({ ...(checked.ok ? {} : checked.errors), ...optionErrors });
          return;
        }
        setErrors({});
        const saved = await api.jobs.update.mutate(input);
        toast("success", "Job saved", "Run it again to use the new settings.");
        props.onSaved?.(saved);
        props.onClose();
      } else {
        const source = connectedOn(sourceConnected(), sourceServerId());
        const dest = connectedOn(destConnected(), destServerId());
        const input = {
          ...common,
          // Asking the owner, the source side carries no credential: the owner enters it through the link.
          ...(askOwner()
            ? { askOwner: ownerEmail().trim() ? { email: ownerEmail().trim() } : { returnLink: true } }
            : source
              ? { sourceConnectionId: source.id }
              : sourcePassword()
                ? { sourcePassword: sourcePassword() }
                : {}),
          ...(dest ? { destConnectionId: dest.id } : destPassword() ? { destPassword: destPassword() } : {}),
        };
        const checked = validate(createJobInputSchema, input, JOB_SENTENCES);
        const optionErrors = validateEngineOptions(options());
        const passwordErrors = missingPasswords();
        if (!checked.ok || Object.keys(optionErrors).length > 0 || Object.keys(passwordErrors).length > 0) {
          setErrors({ ...passwordErrors, ...(checked.ok ? {} : checked.errors), ...optionErrors });
          return;
        }
        setErrors({});
        const created = await api.jobs.create.mutate(input);
        if (created.status === "awaiting_credentials")
          toast(
            "success",
            "Job created: awaiting the owner's password",
            ownerEmail().trim()
              ? `Link emailed to ${ownerEmail().trim()}`
              : "Use Copy link on the job's page to pass a link on",
          );
        else
          toast(
            "success",
            dryRun() ? "Dry run queued" : "Migration queued",
            created.name || created.sourceEmail,
          );
        props.onSaved?.(created);
        props.onClose();
        navigate(`/jobs/${created.id}`);
      }
    } catch (e: unknown) {
      setErrors(serverFieldErrors(errorProblems(e)));
      setFormError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  function serverSelect(
    label: string,
    value: () => string,
    set: (v: string) => void,
    field: string,
  ): JSX.Element {
    return (
      <Field label={label} error={errors()[field]}>
        {(id, describedBy) => (
          <select
            id={id}
            class="select"
            name={field}
            value={value()}
            aria-invalid={Boolean(errors()[field])}
            aria-describedby={describedBy()}
            onChange={(e) => set(e.currentTarget.value)}
          >
            <option value="" disabled>
              {servers.loading ? "Loading servers…" : "Choose a server"}
            </option>
            <For each={servers() ?? []}>
              {(s) => (
                <option value={String(s.id)} selected={String(s.id) === value()}>
                  {s.name} ({s.host})
                </option>
              )}
            </For>
          </select>
        )}
      </Field>
    );
  }

  function textInput(
    label: string,
    field: string,
    value: () => string,
    set: (v: string) => void,
    extra: { type?: string; placeholder?: string; autocomplete?: string; hint?: string } = {},
  ): JSX.Element {
    return (
      <TextField
        label={label}
        error={errors()[field]}
        hint={extra.hint}
        name={field}
        type={extra.type ?? "text"}
        value={value()}
        placeholder={extra.placeholder}
        autocomplete={extra.autocomplete ?? "off"}
        autocapitalize="off"
        spellcheck={false}
        onValue={set}
      />
    );
  }

  const passwordPlaceholder = editing ? "(unchanged)" : "";

  /** The server, login and password of one side of the migration; field names are prefixed by side. */
  function accountFieldset(account: {
    legend: string;
    side: "source" | "dest";
    serverId: TextSignal;
    email: TextSignal;
    password: TextSignal;
    emailPlaceholder: string;
    connected?: [() => ConnectedAccount | null, (value: ConnectedAccount | null) => void];
  }): JSX.Element {
    const connected = () =>
      account.connected ? connectedOn(account.connected[0](), account.serverId[0]()) : null;
    return (
      <fieldset class="group">
        <legend>{account.legend}</legend>
        <div class="stack">
          {serverSelect("Server", account.serverId[0], account.serverId[1], `${account.side}ServerId`)}
          {textInput("Login", `${account.side}Email`, account.email[0], account.email[1], {
            placeholder: account.emailPlaceholder,
            hint: "An email address, a user name or DOMAIN\\user: whatever the server logs in with.",
          })}
          <Show when={account.side === "source" && askOwner()}>
            {textInput("Owner's email (optional)", "askOwner.email", ownerEmail, setOwnerEmail, {
              type: "email",
              placeholder: "alice@customer.example",
              hint: "The link is emailed here, with a reminder. Leave empty to hand the link out yourself.",
            })}
          </Show>
          <Show when={!(account.side === "source" && askOwner())}>
            <Show when={!connected()}>
              {textInput("Password", `${account.side}Password`, account.password[0], account.password[1], {
                type: "password",
                placeholder: serverOf(account.serverId[0]())?.admin
                  ? editing
                    ? "(unchanged)"
                    : "(admin credentials)"
                  : passwordPlaceholder,
                autocomplete: "new-password",
                ...(serverOf(account.serverId[0]())?.admin
                  ? { hint: "Optional: this server's admin credentials log in for the mailbox." }
                  : // The stored password is only ever sent to the server and login it was entered for.
                    editing
                    ? { hint: "Needed again when you change this side's server or login." }
                    : {}),
              })}
            </Show>
            <Show when={account.connected}>
              {(signal) => (
                <ConnectAccount
                  server={serverOf(account.serverId[0]())}
                  login={account.email[0]()}
                  connected={connected()}
                  onChange={(next) => {
                    signal()[1](next);
                    // The login is the account signed in to, unless the operator typed one.
                    if (next?.account && account.email[0]().trim() === "") account.email[1](next.account);
                  }}
                />
              )}
            </Show>
          </Show>
          <Show when={!editing && account.side === "source" && !connected()}>
            <ToggleField
              label="Ask the mailbox's owner"
              description="Leave the source secret to the mailbox's owner: they get a single-use link and enter it there. The job waits until then."
              name="askOwner"
              checked={askOwner()}
              onToggle={setAskOwner}
            />
          </Show>
        </div>
      </fieldset>
    );
  }

  return (
    <Modal
      title={editing ? `Edit ${editing.name || `job ${editing.id}`}` : "New migration job"}
      wide
      onClose={props.onClose}
      footer={
        <ModalFormFooter form="job-form" busy={busy()} onDismiss={props.onClose}>
          {busy() ? "Saving…" : editing ? "Save job" : dryRun() ? "Queue dry run" : "Queue migration"}
        </ModalFormFooter>
      }
    >
      <form id="job-form" class="stack" onSubmit={(e) => void handleSubmit(e)} noValidate>
        <Show when={formError()}>
          <div class="form-error" role="alert">
            {formError()}
          </div>
        </Show>
        <Show when={!servers.loading && servers()?.length === 0}>
          <div class="callout callout-warn">
            There are no servers yet. <a href="/servers">Add the source and destination servers</a> first.
          </div>
        </Show>
        <div class="grid-2">
          {accountFieldset({
            legend: "Source",
            side: "source",
            serverId: [sourceServerId, setSourceServerId],
            email: [sourceEmail, setSourceEmail],
            password: [sourcePassword, setSourcePassword],
            emailPlaceholder: "alice@old.example",
            ...(editing ? {} : { connected: [sourceConnected, setSourceConnected] as const }),
          })}
          {accountFieldset({
            legend: "Destination",
            side: "dest",
            serverId: [destServerId, setDestServerId],
            email: [destEmail, setDestEmail],
            password: [destPassword, setDestPassword],
            emailPlaceholder: "alice@new.example",
            ...(editing ? {} : { connected: [destConnected, setDestConnected] as const }),
          })}
        </div>
        <Show when={sameMailbox()}>
          <div class="callout callout-warn" role="alert" data-same-mailbox>
            Source and destination are the same mailbox ({sourceEmail().trim()} on the same server). A
            migration would copy it onto itself: check the destination server and login.
          </div>
        </Show>
        {textInput("Job name (optional)", "name", name, setName, {
          placeholder: "Defaults to the source login",
        })}
        <ToggleField
          label="Dry run"
          description="Log in to both sides and count what would be copied, without copying anything. Recommended first."
          name="dryRun"
          checked={dryRun()}
          onToggle={setDryRun}
        />
        <details class="advanced" open={Object.keys(errors()).some((k) => k.startsWith("options."))}>
          <summary>Advanced engine options</summary>
          <EngineOptionsFields value={options()} onChange={setOptions} errors={errors()} />
        </details>
      </form>
    </Modal>
  );
}
