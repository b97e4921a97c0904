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

function etaOf(progress: ProgressLike): number | null {
  if (progress.etaSeconds !== null && progress.etaSeconds !== undefined) return progress.etaSeconds;
  if (progress.messagesLeft && progress.msgsPerSecond) return progress.messagesLeft / progress.msgsPerSecond;
  return null;
}

export function JobProgressBar(props: {
  progress: ProgressLike | null | undefined;
  running: boolean;
}): JSX.Element {
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
          {(p) => <span>{etaOf(p()) === null ? "estimating…" : `ETA ${formatDuration(etaOf(p()))}`}</span>}
        </Show>
      </div>
    </div>
  );
}
