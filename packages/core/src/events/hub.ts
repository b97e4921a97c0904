import pg from "pg";
import type { Logger } from "../context.ts";
import { errorMessage } from "../errors.ts";
import {
  type CancelEvent,
  CHANNELS,
  type CredentialsEvent,
  type JobEvent,
  type LogEvent,
  type ResumeEvent,
} from "./channels.ts";

/** The payload type of each channel. */
export interface ChannelPayloads {
  [CHANNELS.log]: LogEvent;
  [CHANNELS.job]: JobEvent;
  [CHANNELS.cancel]: CancelEvent;
  [CHANNELS.resume]: ResumeEvent;
  [CHANNELS.credentials]: CredentialsEvent;
}
export type ChannelName = keyof ChannelPayloads;

/** Stops a subscription. `ready` resolves once the channel is LISTENed, so a backfill after it misses nothing. */
export interface Unsubscribe {
  (): void;
  readonly ready: Promise<void>;
}

export interface EventHub {
  /**
   * Calls `listener` for every NOTIFY on `channel` in this process. Subscribe first, await `ready`,
   * then backfill from the database and de-duplicate (by offset for logs): nothing falls in between.
   */
  subscribe<C extends ChannelName>(channel: C, listener: (payload: ChannelPayloads[C]) => void): Unsubscribe;
  /**
   * Called after the LISTEN connection was lost and re-established: NOTIFYs sent meanwhile are gone,
   * so subscribers backfill from the database again.
   */
  onReconnect(listener: () => void): () => void;
  close(): Promise<void>;
}

export interface EventHubOptions {
  log?: Logger;
  /** First reconnect delay; doubles up to 10 s. @defaultValue 250 */
  reconnectDelayMs?: number;
}

const ALL_CHANNELS = Object.values(CHANNELS) as ChannelName[];

/**
 * One LISTEN connection per process, fanned out to any number of subscribers in memory: nobody polls
 * the database per subscriber. The connection is a dedicated client built from the pool's settings
 * (a pooled client must not be held forever), and it reconnects with backoff when it drops.
 */
export function createEventHub(pool: pg.Pool, options: EventHubOptions = {}): EventHub {
  const listeners = new Map<ChannelName, Set<(payload: never) => void>>();
  const reconnectListeners = new Set<() => void>();
  const baseDelay = options.reconnectDelayMs ?? 250;
  let client: pg.Client | null = null;
  let connecting: Promise<void> | null = null;
  let closed = false;
  let everConnected = false;
  let delay = baseDelay;
  let retryTimer: NodeJS.Timeout | null = null;

  function dispatch(message: pg.Notification): void {
    const set = listeners.get(message.channel as ChannelName);
    if (!set || set.size === 0 || message.payload === undefined) return;
    let payload: unknown;
    try {
      payload = JSON.parse(message.payload);
    } catch {
      options.log?.warn("ignored a NOTIFY payload that is not JSON", { channel: message.channel });
      return;
    }
    for (const listener of [...set]) {
      try {
        (listener as (p: unknown) => void)(payload);
      } catch (e: unknown) {
        options.log?.error("event listener failed", {
          channel: message.channel,
          error: errorMessage(e),
        });
      }
    }
  }

  async function connect(): Promise<void> {
    const next = new pg.Client(pool.options);
    next.on("notification", dispatch);
    next.on("error", function onListenConnectionError(e: Error) {
      options.log?.warn("event connection lost; reconnecting", { error: e.message });
      dropAndRetry(next);
    });
    next.on("end", function onListenConnectionEnd() {
      dropAndRetry(next);
    });
    await next.connect();
    // Listen on every channel at once: three LISTENs cost nothing, and a subscriber added later is
    // then live immediately.
    await next.query(ALL_CHANNELS.map((c) => `LISTEN "${c}"`).join("; "));
    if (closed) {
      await next.end().catch(() => {});
      return;
    }
    client = next;
    delay = baseDelay;
    if (everConnected) {
      for (const listener of [...reconnectListeners]) {
        try {
          listener();
        } catch {
          // a failing reconnect listener must not stop the others
        }
      }
    }
    everConnected = true;
  }

  function dropAndRetry(which: pg.Client): void {
    if (client !== which && client !== null) return;
    client = null;
    which.removeAllListeners("notification");
    which.end().catch(() => {});
    if (closed || retryTimer) return;
    retryTimer = setTimeout(function reconnectEventConnection() {
      retryTimer = null;
      ensureConnected().catch(() => {});
    }, delay);
    delay = Math.min(delay * 2, 10_000);
  }

  function ensureConnected(): Promise<void> {
    if (client || closed) return Promise.resolve();
    if (!connecting) {
      connecting = connect().then(
        () => {
          connecting = null;
        },
        (e: unknown) => {
          connecting = null;
          options.log?.warn("could not open the event connection; retrying", {
            error: errorMessage(e),
          });
          if (!closed && !retryTimer) {
            retryTimer = setTimeout(function retryEventConnection() {
              retryTimer = null;
              ensureConnected().catch(() => {});
            }, delay);
            delay = Math.min(delay * 2, 10_000);
          }
          throw e;
        },
      );
    }
    return connecting;
  }

  /** Resolves once connected, however many attempts it takes (or at close). */
  function whenConnected(): Promise<void> {
    return new Promise((resolve) => {
      const attempt = () => {
        if (client || closed) return resolve();
        ensureConnected().then(resolve, () => setTimeout(attempt, delay));
      };
      attempt();
    });
  }

  return {
    subscribe(channel, listener) {
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
      }
      set.add(listener as (payload: never) => void);
      const ready = whenConnected();
      const unsubscribe = function unsubscribe() {
        set.delete(listener as (payload: never) => void);
      } as Unsubscribe;
      Object.defineProperty(unsubscribe, "ready", { value: ready });
      return unsubscribe;
    },
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
      await connecting?.catch(() => {});
      const current = client;
      client = null;
      listeners.clear();
      reconnectListeners.clear();
      if (current) {
        current.removeAllListeners();
        current.on("error", () => {});
        await current.end().catch(() => {});
      }
    },
  };
}
