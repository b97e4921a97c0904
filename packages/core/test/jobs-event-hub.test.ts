import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHANNELS, type LogEvent } from "../src/events/channels.ts";
import { createEventHub } from "../src/events/hub.ts";
import { createJobTestContext, type JobTestContext, waitFor } from "./support/job-context.ts";

let t: JobTestContext;

beforeAll(async () => {
  t = await createJobTestContext();
});
afterAll(async () => {
  await t?.close();
});

async function notify(channel: string, payload: unknown): Promise<void> {
  await sql`select pg_notify(${channel}, ${JSON.stringify(payload)})`.execute(t.ctx.db);
}

describe("event hub", () => {
  it("fans one LISTEN connection out to typed subscribers and stops after unsubscribe", async () => {
    const hub = createEventHub(t.ctx.pool);
    try {
      const a: LogEvent[] = [];
      const b: LogEvent[] = [];
      const offA = hub.subscribe(CHANNELS.log, (e) => a.push(e));
      const offB = hub.subscribe(CHANNELS.log, (e) => b.push(e));
      await Promise.all([offA.ready, offB.ready]);
      await notify(CHANNELS.log, { jobId: 1, offset: 0, bytes: 3, text: "hi\n" });
      await waitFor("both subscribers", () => a.length === 1 && b.length === 1);
      expect(a[0]).toEqual({ jobId: 1, offset: 0, bytes: 3, text: "hi\n" });
      offA();
      await notify(CHANNELS.log, { jobId: 1, offset: 3, bytes: 1 });
      await waitFor("the remaining subscriber", () => b.length === 2);
      expect(a).toHaveLength(1);
      // One LISTEN connection for the whole process, whatever the number of subscribers.
      const listeners = await sql<{
        n: string;
      }>`select count(*) as n from pg_stat_activity where datname = current_database() and query like 'LISTEN%'`.execute(
        t.ctx.db,
      );
      expect(Number(listeners.rows[0]?.n)).toBe(1);
      offB();
    } finally {
      await hub.close();
    }
  });

  it("reconnects after its connection is killed and tells subscribers to backfill", async () => {
    const hub = createEventHub(t.ctx.pool, { reconnectDelayMs: 20 });
    try {
      const seen: number[] = [];
      let reconnects = 0;
      const off = hub.subscribe(CHANNELS.job, (e) => seen.push(e.jobId));
      hub.onReconnect(() => reconnects++);
      await off.ready;
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query like 'LISTEN%'`.execute(
        t.ctx.db,
      );
      await waitFor("the hub to reconnect", () => reconnects === 1);
      await notify(CHANNELS.job, { jobId: 7, batchId: null, status: "done" });
      await waitFor("an event after the reconnect", () => seen.includes(7));
      off();
    } finally {
      await hub.close();
    }
  });
});
