import type { JSX } from "solid-js";
import { createEffect, createResource, createSignal, on, onCleanup, Show } from "solid-js";
import { api } from "../../api/client.ts";
import type { BatchItem, BatchPlan } from "../../api/types.ts";
import { pluralize } from "../../format.ts";
import { ConfirmDialog } from "../../ui/confirm.tsx";
import { DateTime } from "../../ui/date-time.tsx";
import { Field, TextField } from "../../ui/field.tsx";
import { Icon } from "../../ui/icons.tsx";
import { Modal, ModalFormFooter } from "../../ui/modal.tsx";
import { errorText } from "../../ui/states.tsx";
import { toast } from "../../ui/toasts.tsx";
import { ToggleField } from "../../ui/toggle-field.tsx";

const PHASE_LABELS: Record<BatchPlan["phase"], string> = {
  active: "Delta passes on",
  paused: "Paused",
  "cutting-over": "Cutting over",
  ended: "Cut over",
};

const UNITS = { minutes: 60, hours: 3600, days: 86_400 } as const;
type Unit = keyof typeof UNITS;

/** "every 6 hours": the plan's interval in the largest unit that divides it. */
export function intervalText(seconds: number): string {
  for (const [unit, size] of [
    ["day", 86_400],
    ["hour", 3600],
    ["minute", 60],
  ] as const) {
    if (seconds % size === 0) return `every ${pluralize(seconds / size, unit)}`;
  }
  return `every ${pluralize(seconds, "second")}`;
}

/** A date for <input type="datetime-local">: the person's own clock, to the minute. */
function toLocalInput(value: string | null | undefined): string {
  if (!value) return "";
  const d = new Date(value);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The plan form: how often passes run, when the cutover comes, whether it deletes on the destination. */
export type PlanValues = Omit<Parameters<typeof api.batches.plan.set.mutate>[0], "batchId">;

export function PlanForm(props: {
  /** What the plan is for, in the title: a batch's tag, or "job 12". */
  label: string;
  /** "batch" or "job": what a pass runs again, in the form's explanation. */
  scope: "batch" | "job";
  plan: BatchPlan | null;
  save: (values: PlanValues) => Promise<unknown>;
  onClose: () => void;
  onSaved: () => void;
}) {
  const initial = props.plan?.intervalSeconds ?? 6 * 3600;
  const initialUnit: Unit = initial % 86_400 === 0 ? "days" : initial % 3600 === 0 ? "hours" : "minutes";
  const [amount, setAmount] = createSignal(String(initial / UNITS[initialUnit]));
  const [unit, setUnit] = createSignal<Unit>(initialUnit);
  const [cutoverAt, setCutoverAt] = createSignal(toLocalInput(props.plan?.cutoverAt));
  const [deleteAtCutover, setDeleteAtCutover] = createSignal(
    props.plan?.deleteOnDestinationAtCutover ?? false,
  );
  const [prestageDays, setPrestageDays] = createSignal("");
  // The pre-stage shapes a plan's first copy: it is chosen when a plan starts, not changed later.
  const startsPlan = !props.plan || props.plan.phase === "ended";
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  async function save(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const n = Number(amount());
    if (!Number.isInteger(n) || n < 1) {
      setError("The interval is a whole number, 1 or more.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await props.save({
        intervalSeconds: n * UNITS[unit()],
        // The browser reads datetime-local in the person's time zone; the API gets an absolute time.
        cutoverAt: cutoverAt() ? new Date(cutoverAt()).toISOString() : null,
        deleteOnDestinationAtCutover: deleteAtCutover(),
        ...(startsPlan && prestageDays().trim() !== "" ? { prestageMinAgeDays: Number(prestageDays()) } : {}),
      });
      toast("success", props.plan ? "Plan changed" : "Delta passes planned");
      props.onSaved();
      props.onClose();
    } catch (e: unknown) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      title={props.plan ? `Change the plan of ${props.label}` : `Plan delta passes for ${props.label}`}
      onClose={props.onClose}
      footer={
        <ModalFormFooter form="plan-form" busy={busy()} onDismiss={props.onClose}>
          {props.plan ? "Save plan" : "Start delta passes"}
        </ModalFormFooter>
      }
    >
      <form id="plan-form" class="form-grid" onSubmit={(e) => void save(e)} data-plan-form>
        <p class="muted small span-2">
          {props.scope === "batch"
            ? "Each pass runs every mailbox of the batch again and copies what changed on the old server since the last one, while people still use it. At the cutover (switch MX first), one final pass runs for every mailbox, each is checked, and you get a summary."
            : "Each pass runs this mailbox again and copies what changed on the old server since the last one, while people still use it. At the cutover (switch MX first), one final pass runs, the result is checked, and you get a summary."}
        </p>
        <TextField
          label="Run a pass every"
          name="interval"
          type="number"
          min="1"
          value={amount()}
          onValue={setAmount}
        />
        <Field label="Unit">
          {(id) => (
            <select
              id={id}
              class="select"
              name="unit"
              value={unit()}
              onChange={(e) => setUnit(e.currentTarget.value as Unit)}
            >
              <option value="minutes">minutes</option>
              <option value="hours">hours</option>
              <option value="days">days</option>
            </select>
          )}
        </Field>
        <TextField
          label="Cut over at (optional)"
          name="cutoverAt"
          type="datetime-local"
          fieldClass="span-2"
          hint="Your local time. Without it, the plan runs until you press Cut over."
          value={cutoverAt()}
          onValue={setCutoverAt}
        />
        <Show when={startsPlan}>
          <TextField
            label="Pre-stage: first copy only mail older than (days, optional)"
            name="prestageMinAgeDays"
            type="number"
            min="1"
            fieldClass="span-2"
            hint="Runs of this batch that have not started, and mailboxes added later, copy the old bulk first; every delta pass then copies everything."
            value={prestageDays()}
            onValue={setPrestageDays}
          />
        </Show>
        <ToggleField
          class="span-2"
          name="deleteOnDestinationAtCutover"
          label="Delete on the destination at the cutover"
          description="The final pass deletes destination messages that are no longer on the source (mail people deleted on the old server meanwhile). Destructive."
          checked={deleteAtCutover()}
          onToggle={setDeleteAtCutover}
        />
        <Show when={error()}>
          <div class="form-error span-2" role="alert">
            {error()}
          </div>
        </Show>
      </form>
    </Modal>
  );
}

/**
 * A batch's plan: delta passes on a schedule, then the cutover. Shows the phase, the next pass, the
 * last one, and the cutover's outcome; pause, resume, change and cut over from here.
 */
export function BatchPlanCard(props: { batch: BatchItem; onChanged?: () => void }): JSX.Element {
  // Re-read whenever the batch's counts move (each pass and each run's end shows there first).
  const [plan, { refetch }] = createResource(
    () => ({ id: props.batch.id, counts: JSON.stringify(props.batch.counts) }),
    async ({ id }) => api.batches.plan.get.query({ batchId: id }),
  );
  const [editing, setEditing] = createSignal(false);
  const [confirmingCutover, setConfirmingCutover] = createSignal(false);
  const [busy, setBusy] = createSignal(false);

  // The next pass starts on the server at its time: look again just after it.
  createEffect(
    on(
      () => plan()?.nextPassAt,
      (next) => {
        if (!next) return;
        const timer = setTimeout(
          () => void refetch(),
          Math.max(1000, new Date(next).getTime() - Date.now() + 1000),
        );
        onCleanup(() => clearTimeout(timer));
      },
    ),
  );

  // A cutover ends on the server's own check after the last final run, which no job event announces:
  // look every few seconds while it runs.
  createEffect(
    on(
      () => plan()?.phase,
      (phase) => {
        if (phase !== "cutting-over") return;
        const timer = setInterval(() => void refetch(), 3000);
        onCleanup(() => clearInterval(timer));
      },
    ),
  );

  async function act(what: "pause" | "resume" | "cutover"): Promise<void> {
    setBusy(true);
    try {
      const id = { batchId: props.batch.id };
      if (what === "pause") await api.batches.plan.pause.mutate(id);
      else if (what === "resume") await api.batches.plan.resume.mutate(id);
      else await api.batches.plan.cutover.mutate(id);
      toast(
        "success",
        what === "pause" ? "Plan paused" : what === "resume" ? "Plan resumed" : "Cutover started",
      );
      void refetch();
      props.onChanged?.();
    } catch (e: unknown) {
      toast("error", "The plan could not change", errorText(e));
      throw e;
    } finally {
      setBusy(false);
    }
  }

  const ongoing = () => {
    const p = plan();
    return p && (p.phase === "active" || p.phase === "paused");
  };

  return (
    <Show when={!props.batch.dryRun && (plan.state === "ready" || plan.state === "refreshing")}>
      <div class="card batch-plan" data-batch-plan>
        <Show
          when={plan()}
          fallback={
            <>
              <div class="batch-plan-main">
                <strong>Delta passes</strong>
                <span class="muted small">
                  Keep the destination in step until the cutover, with a pass on a schedule.
                </span>
              </div>
              <button type="button" class="btn btn-sm" data-plan-create onClick={() => setEditing(true)}>
                <Icon name="plus" /> Plan delta passes
              </button>
            </>
          }
        >
          {(p) => (
            <>
              <div class="batch-plan-main">
                <span class="tag" data-plan-phase={p().phase}>
                  {PHASE_LABELS[p().phase]}
                </span>
                <span class="small" data-plan-summary>
                  <Show when={p().phase !== "ended"}>{intervalText(p().intervalSeconds)} · </Show>
                  {pluralize(p().passes, "pass", "passes")} so far
                  <Show when={p().lastPass}>
                    {(last) => (
                      <>
                        {" "}
                        · last <DateTime value={last().at} />:{" "}
                        {pluralize(last().queued, "mailbox", "mailboxes")} queued
                        <Show when={last().busy > 0}>, {last().busy} still running</Show>
                      </>
                    )}
                  </Show>
                </span>
                <Show when={p().prestageMinAgeDays}>
                  {(days) => (
                    <span class="small muted" data-plan-prestage>
                      Pre-staged: the first copy took mail older than {pluralize(days(), "day")}
                    </span>
                  )}
                </Show>
                <Show when={p().nextPassAt}>
                  <span class="small" data-plan-next>
                    Next pass <DateTime value={p().nextPassAt} relative /> (
                    <DateTime value={p().nextPassAt} />)
                  </span>
                </Show>
                <Show when={p().cutoverAt && ongoing()}>
                  <span class="small" data-plan-cutover-at>
                    Cutover <DateTime value={p().cutoverAt} />
                    <Show when={p().deleteOnDestinationAtCutover}>, deleting on the destination</Show>
                  </span>
                </Show>
                <Show when={p().phase === "cutting-over"}>
                  <span class="small" data-plan-cutting-over>
                    The final pass runs for every mailbox; the plan ends when each has been checked.
                  </span>
                </Show>
                <Show when={p().outcome}>
                  {(o) => (
                    <span class="small" data-plan-outcome>
                      Cut over <DateTime value={p().endedAt} />:{" "}
                      {pluralize(o().complete, "mailbox", "mailboxes")} complete, {o().attention} need
                      {o().attention === 1 ? "s" : ""} attention
                    </span>
                  )}
                </Show>
              </div>
              <Show when={p().phase === "active"}>
                <button
                  type="button"
                  class="btn btn-sm"
                  disabled={busy()}
                  data-plan-pause
                  onClick={() => void act("pause").catch(() => {})}
                >
                  <Icon name="stop" /> Pause
                </button>
              </Show>
              <Show when={p().phase === "paused"}>
                <button
                  type="button"
                  class="btn btn-sm"
                  disabled={busy()}
                  data-plan-resume
                  onClick={() => void act("resume").catch(() => {})}
                >
                  <Icon name="play" /> Resume
                </button>
              </Show>
              <Show when={p().phase !== "cutting-over"}>
                <button type="button" class="btn btn-sm" data-plan-edit onClick={() => setEditing(true)}>
                  <Icon name="edit" /> {p().phase === "ended" ? "New plan" : "Change"}
                </button>
              </Show>
              <Show when={ongoing()}>
                <button
                  type="button"
                  class="btn btn-sm btn-primary"
                  disabled={busy()}
                  data-plan-cutover
                  onClick={() => setConfirmingCutover(true)}
                >
                  Cut over now
                </button>
              </Show>
            </>
          )}
        </Show>
        <Show when={editing()}>
          <PlanForm
            label={props.batch.tag}
            scope="batch"
            plan={plan() ?? null}
            save={(values) => api.batches.plan.set.mutate({ ...values, batchId: props.batch.id })}
            onClose={() => setEditing(false)}
            onSaved={() => {
              void refetch();
              props.onChanged?.();
            }}
          />
        </Show>
        <Show when={confirmingCutover()}>
          <ConfirmDialog
            title={`Cut over ${props.batch.tag}?`}
            confirmLabel="Cut over now"
            dismissLabel="Go back"
            danger={plan()?.deleteOnDestinationAtCutover ?? false}
            message={
              <p>
                Every mailbox of the batch gets one final pass, after its current run if one is going, and is
                checked; then the plan ends and a summary is emailed. Switch the MX records first, so no mail
                reaches the old server afterwards.
                <Show when={plan()?.deleteOnDestinationAtCutover}>
                  {" "}
                  The final pass deletes destination messages that are no longer on the source.
                </Show>
              </p>
            }
            onConfirm={() => act("cutover")}
            onClose={() => setConfirmingCutover(false)}
          />
        </Show>
      </div>
    </Show>
  );
}
