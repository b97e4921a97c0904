import type { JSX } from "solid-js";
import { createSignal, Show } from "solid-js";
import { api } from "../../api/client.ts";
import { errorProblems } from "../../api/errors.ts";
import type { JobItem } from "../../api/types.ts";
import { DateTime } from "../../ui/date-time.tsx";
import { TextField } from "../../ui/field.tsx";
import { Modal, ModalFormFooter } from "../../ui/modal.tsx";
import { errorText } from "../../ui/states.tsx";
import { toast } from "../../ui/toasts.tsx";

type CredentialRequest = NonNullable<JobItem["credentialRequest"]>;

/** What the link's state means to an operator, in a few words. */
const STATE_WORDS: Record<CredentialRequest["status"], string> = {
  pending: "Waiting for the owner",
  used: "Used: the owner entered the password",
  expired: "Link expired",
  replaced: "Replaced by a newer link",
  cancelled: "Cancelled with the job",
};

/** One line for the jobs list under an awaiting job: where its owner's link stands. */
export function ownerLinkSentence(job: Pick<JobItem, "status" | "credentialRequest">): string | null {
  if (job.status !== "awaiting_credentials") return null;
  const request = job.credentialRequest;
  if (!request) return "No link issued yet: open the job to send one.";
  if (request.status === "expired") return "Link expired: open the job to send a new one.";
  if (request.status !== "pending") return STATE_WORDS[request.status];
  return request.ownerEmail ? `Link sent to ${request.ownerEmail}` : "Link handed out; waiting for the owner";
}

/**
 * The link that asks the mailbox's owner for the source password: its state, where it went, reminders,
 * expiry and use; for a job still awaiting, "Send a new link" and "Copy link" (each issues a new link
 * and the previous one stops working, as only the link's hash is kept).
 */
export function OwnerLinkCard(props: { job: JobItem; onChanged: () => void }): JSX.Element {
  const request = () => props.job.credentialRequest;
  const awaiting = () => props.job.status === "awaiting_credentials";
  const [sending, setSending] = createSignal(false);
  const [copied, setCopied] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  async function copyLink(): Promise<void> {
    setBusy(true);
    try {
      const job = await api.jobs.sendOwnerLink.mutate({
        id: props.job.id,
        sendEmail: false,
        returnLink: true,
      });
      const url = job.credentialRequest?.url ?? null;
      setCopied(url);
      if (url) await navigator.clipboard?.writeText(url).catch(() => undefined);
      props.onChanged();
    } catch (e: unknown) {
      toast("error", "Could not make a new link", errorText(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Show when={awaiting() || request()}>
      <div class="card" data-owner-link>
        <div class="card-head">
          <h2>Owner's link</h2>
          <span class="muted small" data-owner-link-state>
            {request() ? STATE_WORDS[request()!.status] : "No link issued"}
          </span>
        </div>
        <div class="card-body stack">
          <Show when={request()}>
            {(r) => (
              <dl class="facts">
                <dt>Sent to</dt>
                <dd data-owner-email>{r().ownerEmail ?? "nobody (the link was handed out)"}</dd>
                <dt>Emailed</dt>
                <dd>
                  <Show when={r().ownerEmail} fallback="—">
                    <DateTime value={r().emailedAt} empty={r().emailError ? "not yet" : "on its way"} />
                  </Show>
                </dd>
                <Show when={r().emailError}>
                  <dt>Email problem</dt>
                  <dd style={{ color: "var(--red-700)" }}>{r().emailError}</dd>
                </Show>
                <dt>Reminders</dt>
                <dd data-owner-reminders>
                  {r().remindersSent}
                  <Show when={r().lastReminderAt}>
                    {" "}
                    (last <DateTime value={r().lastReminderAt} />)
                  </Show>
                </dd>
                <dt>{r().status === "expired" ? "Expired" : "Expires"}</dt>
                <dd data-owner-expires>
                  <DateTime value={r().expiresAt} />
                </dd>
                <dt>Wrong passwords</dt>
                <dd>{r().failedAttempts}</dd>
                <dt>Used</dt>
                <dd data-owner-used>
                  <DateTime value={r().usedAt} empty="not yet" />
                </dd>
              </dl>
            )}
          </Show>
          <Show when={copied()}>
            {(url) => (
              <div class="callout callout-ok stack" role="status">
                <div>
                  <strong>New link made.</strong> Give it to the mailbox's owner; it is not shown again, and
                  the previous link no longer works.
                </div>
                <code class="mono" style={{ "overflow-wrap": "anywhere" }} data-owner-link-url>
                  {url()}
                </code>
                <div class="row">
                  <button
                    type="button"
                    class="btn btn-sm"
                    onClick={() =>
                      void navigator.clipboard
                        ?.writeText(url())
                        .then(() => toast("success", "Link copied"))
                        .catch(() => toast("info", "Select the link and copy it by hand"))
                    }
                  >
                    Copy again
                  </button>
                  <button type="button" class="btn btn-sm btn-ghost" onClick={() => setCopied(null)}>
                    Done
                  </button>
                </div>
              </div>
            )}
          </Show>
          <Show when={awaiting()}>
            <div class="row">
              <button
                type="button"
                class="btn btn-primary"
                disabled={busy()}
                onClick={() => setSending(true)}
              >
                Send a new link
              </button>
              <button type="button" class="btn" disabled={busy()} onClick={() => void copyLink()}>
                Copy link
              </button>
            </div>
          </Show>
        </div>
      </div>
      <Show when={sending()}>
        <SendLinkModal
          job={props.job}
          onClose={() => setSending(false)}
          onSent={() => {
            setSending(false);
            props.onChanged();
          }}
        />
      </Show>
    </Show>
  );
}

/** "Send a new link": to the owner's address (the last one, or a corrected one), for some days. */
function SendLinkModal(props: { job: JobItem; onClose: () => void; onSent: () => void }): JSX.Element {
  const [email, setEmail] = createSignal(props.job.credentialRequest?.ownerEmail ?? "");
  const [days, setDays] = createSignal("7");
  const [emailError, setEmailError] = createSignal<string | undefined>();
  const [daysError, setDaysError] = createSignal<string | undefined>();
  const [busy, setBusy] = createSignal(false);

  async function send(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    setEmailError(undefined);
    setDaysError(undefined);
    const dayCount = Number(days());
    if (!Number.isInteger(dayCount) || dayCount < 1 || dayCount > 30) {
      setDaysError("Between 1 and 30 days.");
      return;
    }
    setBusy(true);
    try {
      await api.jobs.sendOwnerLink.mutate({
        id: props.job.id,
        ...(email().trim() ? { email: email().trim() } : {}),
        expiresInHours: dayCount * 24,
      });
      toast("success", "New link sent", email().trim() || undefined);
      props.onSent();
    } catch (e: unknown) {
      const problem = errorProblems(e)[0];
      if (problem?.path[0] === "expiresInHours") setDaysError(problem.message);
      else setEmailError(problem?.message ?? errorText(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      title="Send a new link"
      onClose={props.onClose}
      footer={
        <ModalFormFooter form="send-owner-link" busy={busy()} onDismiss={props.onClose}>
          Send
        </ModalFormFooter>
      }
    >
      <form id="send-owner-link" class="stack" noValidate onSubmit={(e) => void send(e)}>
        <p class="muted">
          The owner of {props.job.sourceEmail} gets a new single-use link by email, and a reminder halfway
          through its life. The previous link stops working.
        </p>
        <TextField
          label="Owner's email"
          name="ownerEmail"
          type="email"
          autocomplete="off"
          value={email()}
          onValue={setEmail}
          error={emailError()}
        />
        <TextField
          label="Link works for (days)"
          name="days"
          type="number"
          min="1"
          max="30"
          value={days()}
          onValue={setDays}
          error={daysError()}
        />
      </form>
    </Modal>
  );
}
