import type { JSX } from "solid-js";
import { Show } from "solid-js";
import { formatCount, formatDuration } from "../format.ts";

export interface ProgressLike {
  copied: number;
  skipped?: number;
  total: number | null;
  etaSeconds: number | null;
  msgsPerSecond?: number | null;
  messagesLeft?: number | null;
}

/** Messages done out of the pre-flight total: copied plus skipped (already on the destination). */
export function progressFraction(progress: ProgressLike | null | undefined): number | null {
  if (!progress?.total) return null;
  const done = progress.copied + (progress.skipped ?? 0);
  return Math.min(1, Math.max(0, done / progress.total));
}

/**
 * Seconds left: the engine's own estimate, else what is left at the current rate. The rate is the
 * engine's, else the average since the run started, so a run whose engine prints no ETA still gets
 * one as soon as the first messages are done.
 */
export function etaOf(progress: ProgressLike, elapsedSeconds: number | null = null): number | null {
  if (progress.etaSeconds !== null && progress.etaSeconds !== undefined) return progress.etaSeconds;
  const done = progress.copied + (progress.skipped ?? 0);
  const left = progress.messagesLeft ?? (progress.total ? Math.max(0, progress.total - done) : null);
  if (left === null) return null;
  const rate =
    progress.msgsPerSecond ||
    (elapsedSeconds && elapsedSeconds > 0 && done > 0 ? done / elapsedSeconds : null);
  return rate ? left / rate : null;
}

export function JobProgressBar(props: {
  progress: ProgressLike | null | undefined;
  running: boolean;
  /** When the run started, for an ETA where the engine reports no rate. */
  startedAt?: string | null;
}): JSX.Element {
  const elapsed = () => (props.startedAt ? (Date.now() - new Date(props.startedAt).getTime()) / 1000 : null);
  const fraction = () => progressFraction(props.progress);
  return (
    <div class="progress-cell">
      <div
        class="progress"
        role="progressbar"
        aria-label="Messages copied"
        aria-valuemin={0}
        aria-valuemax={props.progress?.total ?? undefined}
        aria-valuenow={props.progress ? props.progress.copied + (props.progress.skipped ?? 0) : undefined}
        data-indeterminate={props.running && fraction() === null ? "true" : "false"}
      >
        <span
          style={
            fraction() === null && props.running
              ? undefined
              : { width: `${Math.round((fraction() ?? 0) * 1000) / 10}%` }
          }
        />
      </div>
      <div class="progress-meta">
        <span data-progress-count>
          {formatCount(props.progress ? props.progress.copied + (props.progress.skipped ?? 0) : 0)} /{" "}
          {props.progress?.total === null || props.progress?.total === undefined
            ? "?"
            : formatCount(props.progress.total)}
        </span>
        <Show when={props.running && props.progress}>
          {(p) => {
            const eta = () => etaOf(p(), elapsed());
            return <span>{eta() === null ? "estimating…" : `ETA ${formatDuration(eta())}`}</span>;
          }}
        </Show>
      </div>
    </div>
  );
}
