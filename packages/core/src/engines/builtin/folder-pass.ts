import type { SyncCounters, SyncErrorCategory, SyncSession } from "./sync-session.ts";

type CounterName = keyof SyncCounters;

/**
 * One pass over one folder, seen through the run's session: everything reads and writes the shared
 * session (counters, errors, halt, output), and the pass also keeps its own share of the counters
 * and the errors it raised. Folders are copied in parallel, so "what this folder's pass counted"
 * cannot be read off the shared counters by a before/after difference: other folders count too.
 * A pass cut short by a dropped connection is taken back with `undo`, and only its own share.
 */
export interface FolderPass {
  /** The session the folder sync is given. */
  readonly session: SyncSession;
  /** What this pass added to each counter. */
  readonly tally: Readonly<Record<CounterName, number>>;
  /** The errors this pass raised, in order. */
  readonly errors: readonly { category: SyncErrorCategory; text: string }[];
  /**
   * Takes this pass's errors back out of the run, and its counts except `keep` (what really
   * happened on the servers, such as messages that were copied before the drop).
   */
  undo(keep: readonly CounterName[]): void;
}

export function startFolderPass(shared: SyncSession): FolderPass {
  const tally = {} as Record<CounterName, number>;
  for (const name of Object.keys(shared.counters) as CounterName[]) tally[name] = 0;
  const errors: { category: SyncErrorCategory; text: string }[] = [];

  // Counters are only ever updated in a single synchronous statement (`c.x += n`, `c.x = max(…)`),
  // so the difference between the new and the current value is exactly this pass's contribution.
  const counters = new Proxy(shared.counters, {
    set(target, name, value: number) {
      const key = name as CounterName;
      tally[key] += value - target[key];
      target[key] = value;
      return true;
    },
  });

  const session = new Proxy(shared, {
    get(target, name, receiver) {
      if (name === "counters") return counters;
      if (name === "error") {
        return function recordError(category: SyncErrorCategory, text: string): void {
          try {
            target.error(category, text);
          } finally {
            const entry = target.errors.at(-1);
            if (entry) errors.push(entry);
          }
        };
      }
      const value: unknown = Reflect.get(target, name, receiver);
      // Methods run against the real session, so what they change (halt, errors) is the run's.
      return typeof value === "function" ? value.bind(target) : value;
    },
    set(target, name, value) {
      return Reflect.set(target, name, value);
    },
  });

  return {
    session,
    tally,
    errors,
    undo(keep) {
      const kept = new Set<CounterName>(keep);
      for (const name of Object.keys(tally) as CounterName[]) {
        if (!kept.has(name)) shared.counters[name] -= tally[name];
      }
      for (const entry of errors) {
        const at = shared.errors.indexOf(entry);
        if (at >= 0) shared.errors.splice(at, 1);
      }
    },
  };
}
