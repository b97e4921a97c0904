import { RETRY_CATEGORIES, type RetryCategory, settingsPatchSchema } from "@imapferry/core/schemas";
import type { JSX } from "solid-js";
import { createEffect, createResource, createSignal, For, Show } from "solid-js";
import { createStore } from "solid-js/store";
import { api } from "../../api/client.ts";
import { errorProblems } from "../../api/errors.ts";
import type { SettingsView } from "../../api/types.ts";
import type { FieldErrors, FieldSentences } from "../../forms/validate.ts";
import { serverFieldErrors, validate } from "../../forms/validate.ts";
import { noticeSessionLoss } from "../../session.ts";
import type { ListedTextField } from "../../ui/field.tsx";
import { TextAreaField, TextFieldList } from "../../ui/field.tsx";
import { Icon } from "../../ui/icons.tsx";
import { errorText, ResourceStates } from "../../ui/states.tsx";
import { toast } from "../../ui/toasts.tsx";
import { ToggleField } from "../../ui/toggle-field.tsx";
import { EngineOptionsFields } from "../jobs/engine-options.tsx";
import { TokensCard } from "./tokens-card.tsx";

/** How the panel names each fault the retry policy can retry. */
const RETRY_CATEGORY_FIELDS: Record<RetryCategory, { label: string; description: string }> = {
  connection: {
    label: "Retry lost connections",
    description: "A connection that dropped and could not be reopened, or a server refusing connections.",
  },
  throttled: {
    label: "Retry throttled runs",
    description: "A server that asked to slow down or to come back later (Gmail, Office 365).",
  },
  "oauth2-token": {
    label: "Retry OAuth2 token failures",
    description: "A token endpoint that did not answer, or an access token that expired under imapsync.",
  },
};

type LimitSetting =
  | "workerConcurrency"
  | "defaultSourceHostLimit"
  | "connectionsPerAccount"
  | "maxResumeAttempts"
  | "retryMaxAttempts"
  | "retryBaseSeconds"
  | "retryCapSeconds";

/** The whole numbers above the "Resume interrupted migrations" switch. */
const WORKER_LIMIT_FIELDS: readonly ListedTextField<LimitSetting>[] = [
  { name: "workerConcurrency", label: "Migrations per worker", hint: "How many run at once on each worker." },
  {
    name: "defaultSourceHostLimit",
    label: "Per source server",
    hint: "Migrations reading from one source at once, across all workers.",
  },
  {
    name: "connectionsPerAccount",
    label: "Connections per account",
    hint: "Each migration's IMAP connections to one mailbox: 4 copies two folders at once. A server's own cap lowers it.",
  },
];

/** The whole numbers below it: how often a job is resumed or retried, and how long it waits. */
const RECOVERY_FIELDS: readonly ListedTextField<LimitSetting>[] = [
  { name: "maxResumeAttempts", label: "Resume attempts", hint: "Before a job stays interrupted." },
  {
    name: "retryMaxAttempts",
    label: "Automatic retries",
    hint: "After a dropped connection or a throttling server, before a job fails. 0: none.",
  },
  {
    name: "retryBaseSeconds",
    label: "First wait (seconds)",
    hint: "Doubles with each retry, unless the server asks for a wait of its own.",
  },
  { name: "retryCapSeconds", label: "Longest wait (seconds)", hint: "The doubling stops here." },
];

/** What the form says about a field the schema has no sentence for. */
const SETTINGS_SENTENCES: FieldSentences = {
  "notificationRecipients.*": "Enter an email address such as ops@example.com.",
  notificationRecipients: "At most 50 recipients.",
  workerConcurrency: "Migrations per worker is a whole number from 1 to 64.",
  defaultSourceHostLimit: "Migrations per source server is a whole number from 1 to 1000.",
  connectionsPerAccount: "Connections per account is a whole number from 1 to 16.",
  maxResumeAttempts: "Resume attempts is a whole number from 0 to 100.",
  retryMaxAttempts: "Automatic retries is a whole number from 0 to 100.",
  retryBaseSeconds: "The first wait is a whole number of seconds from 1 to 86400 (a day).",
  retryCapSeconds: "The longest wait is a whole number of seconds from 1 to 604800 (a week).",
};

export function SettingsPage(): JSX.Element {
  const [settings, { refetch, mutate }] = createResource(
    async function loadSettings(): Promise<SettingsView> {
      try {
        return await api.settings.get.query();
      } catch (e: unknown) {
        noticeSessionLoss(e);
        throw e;
      }
    },
  );
  const [health] = createResource(async function loadHealth() {
    try {
      return await api.health.query();
    } catch {
      return null;
    }
  });

  const [recipients, setRecipients] = createSignal("");
  const [perJob, setPerJob] = createSignal(false);
  const [autoResume, setAutoResume] = createSignal(true);
  /** The whole-number settings as typed. */
  const [limits, setLimits] = createStore<Record<LimitSetting, string>>({
    workerConcurrency: "",
    defaultSourceHostLimit: "",
    connectionsPerAccount: "",
    maxResumeAttempts: "",
    retryMaxAttempts: "",
    retryBaseSeconds: "",
    retryCapSeconds: "",
  });
  const [retryOn, setRetryOn] = createSignal<RetryCategory[]>([...RETRY_CATEGORIES]);
  const [engineDefaults, setEngineDefaults] = createSignal<Record<string, unknown>>({});
  const [errors, setErrors] = createSignal<FieldErrors>({});
  const [busy, setBusy] = createSignal(false);

  createEffect(function fillForm() {
    const s = settings.latest;
    if (!s) return;
    setRecipients(s.notificationRecipients.join("\n"));
    setPerJob(s.perJobEmailsInBatches);
    setAutoResume(s.autoResume);
    setLimits({
      workerConcurrency: String(s.workerConcurrency),
      defaultSourceHostLimit: String(s.defaultSourceHostLimit),
      connectionsPerAccount: String(s.connectionsPerAccount),
      maxResumeAttempts: String(s.maxResumeAttempts),
      retryMaxAttempts: String(s.retryMaxAttempts),
      retryBaseSeconds: String(s.retryBaseSeconds),
      retryCapSeconds: String(s.retryCapSeconds),
    });
    setRetryOn([...s.retryCategories]);
    setEngineDefaults({ ...(s.defaultEngineOptions ?? {}) });
  });

  /** The option editor names its fields "options.<key>"; the settings' errors say "defaultEngineOptions.<key>". */
  function engineDefaultErrors(): FieldErrors {
    return Object.fromEntries(
      Object.entries(errors())
        .filter(([key]) => key.startsWith("defaultEngineOptions."))
        .map(([key, sentence]) => [`options.${key.slice("defaultEngineOptions.".length)}`, sentence]),
    );
  }

  /** With no automatic retries, their waits and faults do not apply. */
  function retriesOff(): boolean {
    return limits.retryMaxAttempts === "0";
  }

  function num(value: string): number {
    return value.trim() === "" ? Number.NaN : Number(value);
  }

  async function save(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const patch = {
      notificationRecipients: recipients()
        .split(/[\n,;]+/)
        .map((r) => r.trim())
        .filter(Boolean),
      perJobEmailsInBatches: perJob(),
      workerConcurrency: num(limits.workerConcurrency),
      defaultSourceHostLimit: num(limits.defaultSourceHostLimit),
      connectionsPerAccount: num(limits.connectionsPerAccount),
      autoResume: autoResume(),
      maxResumeAttempts: num(limits.maxResumeAttempts),
      retryMaxAttempts: num(limits.retryMaxAttempts),
      retryBaseSeconds: num(limits.retryBaseSeconds),
      retryCapSeconds: num(limits.retryCapSeconds),
      retryCategories: retryOn(),
      defaultEngineOptions: engineDefaults(),
    };
    const checked = validate(settingsPatchSchema, patch, SETTINGS_SENTENCES);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      mutate(await api.settings.update.mutate(patch));
      toast("success", "Settings saved");
    } catch (e: unknown) {
      setErrors(serverFieldErrors(errorProblems(e)));
      toast("error", "Settings not saved", errorText(e));
    } finally {
      setBusy(false);
    }
  }

  function recipientError(): string | undefined {
    const entry = Object.entries(errors()).find(([key]) => key.startsWith("notificationRecipients"));
    if (!entry) return undefined;
    const index = Number(entry[0].split(".")[1]);
    const bad = recipients()
      .split(/[\n,;]+/)
      .map((r) => r.trim())
      .filter(Boolean)[index];
    return bad ? `“${bad}”: ${entry[1]}` : entry[1];
  }

  return (
    <div class="page">
      <div class="page-head">
        <div>
          <h1>Settings</h1>
          <p class="sub">Who hears about finished migrations, and how hard imapferry may push.</p>
        </div>
      </div>
      <ResourceStates
        resource={settings}
        card
        errorTitle="Could not load the settings"
        onRetry={() => void refetch()}
        loadingLabel="Loading settings…"
      >
        {() => (
          <>
            <form class="stack" onSubmit={(e) => void save(e)} noValidate>
              <div class="card">
                <div class="card-head">
                  <h2>Notifications</h2>
                  <Show when={health()}>
                    {(h) => (
                      <span
                        class="row small"
                        data-notifications={h().notifications.configured ? "on" : "off"}
                      >
                        <span class={`dot ${h().notifications.configured ? "dot-ok" : "dot-warn"}`} />
                        {h().notifications.configured ? "Email enabled" : "Email disabled"}
                      </span>
                    )}
                  </Show>
                </div>
                <div class="card-body stack">
                  <Show when={health()}>
                    {(h) => (
                      <div
                        class={
                          h().notifications.configured
                            ? "callout callout-ok small"
                            : "callout callout-warn small"
                        }
                        data-notification-status
                      >
                        <Icon name="bell" class="icon-18" /> {h().notifications.detail}
                      </div>
                    )}
                  </Show>
                  <TextAreaField
                    label="Recipients"
                    error={recipientError()}
                    hint="One address per line. They get an email when a job or a whole batch ends."
                    name="notificationRecipients"
                    rows={3}
                    placeholder="ops@example.com"
                    value={recipients()}
                    onValue={setRecipients}
                  />
                  <ToggleField
                    label="Email every job of a batch"
                    description="Off: one summary when the batch's last job ends."
                    checked={perJob()}
                    onToggle={setPerJob}
                  />
                </div>
              </div>
              <div class="card">
                <div class="card-head">
                  <h2>Default limits</h2>
                </div>
                <div class="card-body form-grid">
                  <TextFieldList
                    fields={WORKER_LIMIT_FIELDS}
                    inputmode="numeric"
                    texts={limits}
                    errors={errors()}
                    onText={setLimits}
                  />
                  <ToggleField
                    label="Resume interrupted migrations"
                    description="When a worker dies, another one picks its jobs up."
                    checked={autoResume()}
                    onToggle={setAutoResume}
                  />
                  <TextFieldList
                    fields={RECOVERY_FIELDS}
                    inputmode="numeric"
                    texts={limits}
                    errors={errors()}
                    onText={setLimits}
                    disabled={{
                      maxResumeAttempts: !autoResume(),
                      retryBaseSeconds: retriesOff(),
                      retryCapSeconds: retriesOff(),
                    }}
                  />
                  <For each={RETRY_CATEGORIES}>
                    {(category) => (
                      <ToggleField
                        {...RETRY_CATEGORY_FIELDS[category]}
                        name={`retryCategories.${category}`}
                        checked={retryOn().includes(category)}
                        disabled={retriesOff()}
                        onToggle={(on) =>
                          setRetryOn(
                            RETRY_CATEGORIES.filter((c) => (c === category ? on : retryOn().includes(c))),
                          )
                        }
                      />
                    )}
                  </For>
                </div>
              </div>
              <div class="card" data-default-engine-options>
                <div class="card-head">
                  <h2>Default engine options</h2>
                </div>
                <div class="card-body stack">
                  <p class="muted small">
                    Every new job starts with these, under its batch's options and its own (a CSV row's option
                    columns, a job's advanced options). Jobs already created keep theirs.
                  </p>
                  <EngineOptionsFields
                    value={engineDefaults()}
                    onChange={setEngineDefaults}
                    errors={engineDefaultErrors()}
                  />
                </div>
              </div>
              <div class="row" style={{ "justify-content": "flex-end" }}>
                <button type="submit" class="btn btn-primary" disabled={busy()}>
                  {busy() ? "Saving…" : "Save settings"}
                </button>
              </div>
            </form>
            <TokensCard />
          </>
        )}
      </ResourceStates>
    </div>
  );
}
