import type { LogPage, ServiceContext } from "@imapferry/core";
import { readLog } from "@imapferry/core";

export interface LogReader {
  read(jobId: number, fromOffset: number): Promise<LogPage>;
}

/**
 * Reads log pages with core's readLog, sharing identical reads in flight: when 500 followers of one job
 * all need the chunk that did not fit in a NOTIFY, the database answers once.
 */
export function createCoalescingLogReader(ctx: Pick<ServiceContext, "db">): LogReader {
  const inFlight = new Map<string, Promise<LogPage>>();
  return {
    read(jobId, fromOffset) {
      const key = `${jobId}:${fromOffset}`;
      const pending = inFlight.get(key);
      if (pending) return pending;
      const read = readLog(ctx, jobId, fromOffset).finally(() => inFlight.delete(key));
      inFlight.set(key, read);
      return read;
    },
  };
}
