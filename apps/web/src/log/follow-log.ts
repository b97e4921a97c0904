import { api } from "../api/client.ts";
import { noticeSessionLoss } from "../session.ts";

/**
 * Follows a job's log with the SDK's followLogs: logs.tail resumed by byte offset across dropped
 * connections and server restarts, so `onText` receives every new byte once and in order. Ends by
 * itself when the job is over (`onEnd`); the returned function stops it earlier.
 */
export function followJobLog(
  jobId: number,
  handlers: { onText: (text: string) => void; onEnd?: () => void; onError?: (error: unknown) => void },
): () => void {
  const controller = new AbortController();
  void (async function pumpLog() {
    try {
      for await (const text of api.followLogs(jobId, { signal: controller.signal })) handlers.onText(text);
      if (!controller.signal.aborted) handlers.onEnd?.();
    } catch (e: unknown) {
      if (controller.signal.aborted) return;
      noticeSessionLoss(e);
      handlers.onError?.(e);
    }
  })();
  return function stopFollowing() {
    controller.abort();
  };
}
