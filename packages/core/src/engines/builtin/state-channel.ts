import { Socket } from "node:net";
import type { FolderSyncState, StateUpdate } from "./sync-state.ts";
import { FolderStates } from "./sync-state.ts";

/*
 * The engine's side of the incremental sync state channel: a socket the worker opens as an extra
 * descriptor of the engine process (`--statefd 3`). The engine has no database access (its
 * environment carries the passwords and nothing else), and stdout is the imapsync-shaped log that
 * operators read, so the state travels on a channel of its own:
 *   worker → engine: one line, a JSON array of the folder states stored for this mailbox pair;
 *   engine → worker: one JSON line per folder pass (`StateUpdate`), which the worker stores in batches.
 */

/** What a run's folder syncs see of the channel. */
export interface SyncStateChannel {
  /** The state stored for this folder pair when the run started, if any. */
  lookup(sourceFolder: string, destinationFolder: string): FolderSyncState | undefined;
  report(update: StateUpdate): void;
}

export interface OpenStateChannel extends SyncStateChannel {
  /** Flushes what was reported and closes the descriptor. */
  close(): Promise<void>;
}

/** Reads the stored state from `fd` (up to the first newline) and returns the open channel. */
export async function openStateChannel(fd: number): Promise<OpenStateChannel> {
  const socket = new Socket({ fd, readable: true, writable: true });
  const firstLine = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    function onData(chunk: Buffer): void {
      const newline = chunk.indexOf(10);
      if (newline < 0) {
        chunks.push(chunk);
        return;
      }
      chunks.push(chunk.subarray(0, newline));
      done();
      resolve(Buffer.concat(chunks).toString("utf8"));
    }
    function onEnd(): void {
      done();
      resolve(Buffer.concat(chunks).toString("utf8"));
    }
    function onError(e: Error): void {
      done();
      reject(e);
    }
    function done(): void {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onError);
      socket.pause();
    }
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", onError);
  });
  let records: unknown = [];
  try {
    records = JSON.parse(firstLine || "[]");
  } catch {
    // Unreadable state is no state: every folder gets the full comparison.
  }
  const stored = new FolderStates(Array.isArray(records) ? records : []);
  let broken = false;
  socket.on("error", function stateChannelBroken() {
    // The worker went away; the run goes on, and its next run finds the state it has.
    broken = true;
  });
  return {
    lookup(sourceFolder, destinationFolder) {
      return stored.lookup(sourceFolder, destinationFolder);
    },
    report(update) {
      if (!broken) socket.write(`${JSON.stringify(update)}\n`);
    },
    close() {
      return new Promise<void>((resolve) => {
        if (broken) {
          socket.destroy();
          resolve();
          return;
        }
        socket.end(() => resolve());
        socket.once("error", () => resolve());
      });
    },
  };
}
