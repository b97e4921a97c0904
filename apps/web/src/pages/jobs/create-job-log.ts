import type { Accessor } from "solid-js";
import { createSignal, onCleanup } from "solid-js";
import { followJobLog } from "../../log/follow-log.ts";
import type { LogViewController } from "../../log/log-view.tsx";

export type JobLogState = "live" | "ended" | "error";

export interface JobLog {
  /** Hands the log view to the follower (its `ref`). */
  attach: (controller: LogViewController) => void;
  state: Accessor<JobLogState>;
  /** Bytes of log received so far: the log's size, live (the job row's count lags behind). */
  bytes: Accessor<number>;
}

/**
 * The job's log, followed for the page's life; it ends by itself once the job is over. It starts with
 * the page, before the job (and so the log view) has loaded: text that arrives before the view
 * exists is held until then.
 */
export function createJobLog(jobId: number): JobLog {
  let view: LogViewController | undefined;
  let early: string[] = [];
  const [state, setState] = createSignal<JobLogState>("live");
  const [bytes, setBytes] = createSignal(0);
  const encoder = new TextEncoder();
  const stop = followJobLog(jobId, {
    onText: (text) => {
      setBytes((n) => n + encoder.encode(text).length);
      if (view) view.append(text);
      else early.push(text);
    },
    onEnd: () => {
      setState("ended");
      view?.finish();
    },
    onError: () => setState("error"),
  });
  onCleanup(stop);
  return {
    attach(controller) {
      view = controller;
      for (const text of early) controller.append(text);
      early = [];
      if (state() === "ended") controller.finish();
    },
    state,
    bytes,
  };
}
