import { settingsPatchSchema } from "@imapferry/core/schemas";
import type { JSX } from "solid-js";
import { createEffect, createResource, createSignal, Match, Show, Switch } from "solid-js";
import { api } from "../api/client.ts";
import { errorProblems } from "../api/errors.ts";
import type { SettingsView } from "../api/types.ts";
import type { FieldErrors } from "../forms/validate.ts";
import { serverFieldErrors, validate } from "../forms/validate.ts";
import { noticeSessionLoss } from "../session.ts";
import { Field } from "../ui/field.tsx";
import { Icon } from "../ui/icons.tsx";
import { ErrorState, errorText, Loading } from "../ui/states.tsx";
import { toast } from "../ui/toasts.tsx";
import { TokensCard } from "./tokens-card.tsx";

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
  const [concurrency, setConcurrency] = createSignal("");
  const [hostLimit, setHostLimit] = createSignal("");
  const [autoResume, setAutoResume] = createSignal(true);
  const [maxResume, setMaxResume] = createSignal("");
  const [errors, setErrors] = createSignal<FieldErrors>({});
  const [busy, setBusy] = createSignal(false);

  createEffect(function fillForm() {
    const s = settings.latest;
    if (!s) return;
    setRecipients(s.notificationRecipients.join("\n"));
    setPerJob(s.perJobEmailsInBatches);
    setConcurrency(String(s.workerConcurrency));
    setHostLimit(String(s.defaultSourceHostLimit));
    setAutoResume(s.autoResume);
    setMaxResume(String(s.maxResumeAttempts));
  });

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
      workerConcurrency: num(concurrency()),
      defaultSourceHostLimit: num(hostLimit()),
      autoResume: autoResume(),
      maxResumeAttempts: num(maxResume()),
    };
    const checked = validate(settingsPatchSchema, patch);
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
      <Switch>
        <Match when={settings.error && !settings.latest}>
          <div class="card">
            <ErrorState
              title="Could not load the settings"
              error={settings.error}
              onRetry={() => void refetch()}
            />
          </div>
        </Match>
        <Match when={!settings.latest}>
          <div class="card">
            <Loading label="Loading settings…" />
          </div>
        </Match>
        <Match when={settings.latest}>
          <form class="stack" onSubmit={(e) => void save(e)} noValidate>
            <div class="card">
              <div class="card-head">
                <h2>Notifications</h2>
                <Show when={health()}>
                  {(h) => (
                    <span class="row small" data-notifications={h().notifications.configured ? "on" : "off"}>
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
                <Field
                  label="Recipients"
                  error={recipientError()}
                  hint="One address per line. They get an email when a job or a whole batch ends."
                >
                  {(id, describedBy) => (
                    <textarea
                      id={id}
                      class="textarea"
                      name="notificationRecipients"
                      rows={3}
                      placeholder="ops@example.com"
                      value={recipients()}
                      aria-invalid={Boolean(recipientError())}
                      aria-describedby={describedBy()}
                      onInput={(e) => setRecipients(e.currentTarget.value)}
                    />
                  )}
                </Field>
                <label class="switch">
                  <input
                    type="checkbox"
                    checked={perJob()}
                    onChange={(e) => setPerJob(e.currentTarget.checked)}
                  />
                  <span>
                    <strong>Email every job of a batch</strong>
                    <br />
                    <span class="muted small">Off: one summary when the batch's last job ends.</span>
                  </span>
                </label>
              </div>
            </div>
            <div class="card">
              <div class="card-head">
                <h2>Default limits</h2>
              </div>
              <div class="card-body form-grid">
                <Field
                  label="Migrations per worker"
                  error={errors().workerConcurrency}
                  hint="How many run at once on each worker."
                >
                  {(id, describedBy) => (
                    <input
                      id={id}
                      class="input"
                      name="workerConcurrency"
                      inputmode="numeric"
                      value={concurrency()}
                      aria-invalid={Boolean(errors().workerConcurrency)}
                      aria-describedby={describedBy()}
                      onInput={(e) => setConcurrency(e.currentTarget.value)}
                    />
                  )}
                </Field>
                <Field
                  label="Per source server"
                  error={errors().defaultSourceHostLimit}
                  hint="Migrations reading from one source at once, across all workers."
                >
                  {(id, describedBy) => (
                    <input
                      id={id}
                      class="input"
                      name="defaultSourceHostLimit"
                      inputmode="numeric"
                      value={hostLimit()}
                      aria-invalid={Boolean(errors().defaultSourceHostLimit)}
                      aria-describedby={describedBy()}
                      onInput={(e) => setHostLimit(e.currentTarget.value)}
                    />
                  )}
                </Field>
                <label class="switch">
                  <input
                    type="checkbox"
                    checked={autoResume()}
                    onChange={(e) => setAutoResume(e.currentTarget.checked)}
                  />
                  <span>
                    <strong>Resume interrupted migrations</strong>
                    <br />
                    <span class="muted small">When a worker dies, another one picks its jobs up.</span>
                  </span>
                </label>
                <Field
                  label="Resume attempts"
                  error={errors().maxResumeAttempts}
                  hint="Before a job stays interrupted."
                >
                  {(id, describedBy) => (
                    <input
                      id={id}
                      class="input"
                      name="maxResumeAttempts"
                      inputmode="numeric"
                      value={maxResume()}
                      disabled={!autoResume()}
                      aria-invalid={Boolean(errors().maxResumeAttempts)}
                      aria-describedby={describedBy()}
                      onInput={(e) => setMaxResume(e.currentTarget.value)}
                    />
                  )}
                </Field>
              </div>
            </div>
            <div class="row" style={{ "justify-content": "flex-end" }}>
              <button type="submit" class="btn btn-primary" disabled={busy()}>
                {busy() ? "Saving…" : "Save settings"}
              </button>
            </div>
          </form>
          <TokensCard />
        </Match>
      </Switch>
    </div>
  );
}
