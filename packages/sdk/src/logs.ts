import { download } from "./download.ts";
import { resubscribing } from "./retry.ts";
import type { ClientCore } from "./types.ts";

export interface FollowLogsOptions {
  /** Byte offset to start at (e.g. what you had already saved). @defaultValue 0 */
  fromOffset?: number;
  /** Stops following. */
  signal?: AbortSignal;
  /** Called with the byte offset after each piece, e.g. to save it and resume later with `fromOffset`. */
  onOffset?: (offset: number) => void;
}

export interface LogHelpers {
  /**
   * A job's log as text pieces, live, until the job ends. Survives dropped connections and server
   * restarts: it resumes at the exact byte it stopped at, so no text is missed or repeated.
   */
  followLogs(jobId: number, options?: FollowLogsOptions): AsyncIterable<string>;
  /** GET /api/jobs/:id/log: the whole log as a download (read `.text()` or stream `.body`). */
  downloadLog(jobId: number): Promise<Response>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function createLogHelpers(core: ClientCore): LogHelpers {
  async function* followLogs(
    jobId: number,
    options: FollowLogsOptions = {},
  ): AsyncGenerator<string, void, undefined> {
    let position = options.fromOffset ?? 0;
    yield* resubscribing(async function* tailFromPosition(stop) {
      const events = core.api.logs.tail.subscribe({ jobId, lastEventId: String(position) }, { signal: stop });
      for await (const event of events) {
        const end = Number(event.id);
        const { offset, text } = event.data;
        // The server already resumes at `position`; this guards against a replay all the same.
        if (end <= position) continue;
        const piece =
          offset < position ? decoder.decode(encoder.encode(text).subarray(position - offset)) : text;
        position = end;
        options.onOffset?.(position);
        yield piece;
      }
    }, options.signal);
  }

  function downloadLog(jobId: number): Promise<Response> {
    return download(core, `/api/jobs/${jobId}/log`, `the log of job ${jobId}`);
  }

  return { followLogs, downloadLog };
}
