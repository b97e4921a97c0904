import { readFileSync, readlinkSync } from "node:fs";
import os from "node:os";

/**
 * What tells one process from every other on a host, beyond its pid: the kernel's boot id, the pid
 * namespace and the start time. A pid alone is reused, and two containers with one host name each
 * count pids from 1. Linux only (/proc); elsewhere every part is null and no identity is claimed.
 */
export interface ProcessIdentity {
  hostname: string;
  pid: number;
  bootId: string | null;
  pidNamespace: string | null;
  /** Clock ticks since boot, as /proc/<pid>/stat's 22nd field says (text: it outgrows 2^53 never, but is a kernel u64). */
  processStart: string | null;
}

function readOrNull(read: () => string): string | null {
  try {
    return read().trim() || null;
  } catch {
    return null;
  }
}

/** The start time of `pid` in this pid namespace, or null when no such process is visible. */
export function processStartOf(pid: number): string | null {
  const stat = readOrNull(() => readFileSync(`/proc/${pid}/stat`, "utf8"));
  if (!stat) return null;
  // The command name (field 2) is in parentheses and may itself contain spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields from the 3rd on: the start time is the 22nd field, the 20th here.
  return fields[19] ?? null;
}

/** This process's identity. */
export function currentProcessIdentity(): ProcessIdentity {
  return {
    hostname: os.hostname(),
    pid: process.pid,
    bootId: readOrNull(() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8")),
    pidNamespace: readOrNull(() => readlinkSync("/proc/self/ns/pid")),
    processStart: processStartOf(process.pid),
  };
}

/** Whether `pid` names no process at all (signal 0 checks without sending anything). */
function pidIsFree(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e: unknown) {
    // EPERM: it exists, under another user.
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * Whether the process `recorded` describes has certainly exited, as seen from `here` (this process):
 * only for a fully recorded process of this very host, boot and pid namespace, whose pid is now free
 * or taken by a process that started at another time. Anything not known for sure is "not exited":
 * its jobs then wait for their lease like those of any other silent worker.
 */
export function hasCertainlyExited(
  recorded: ProcessIdentity,
  here: ProcessIdentity = currentProcessIdentity(),
): boolean {
  if (!recorded.bootId || !recorded.pidNamespace || !recorded.processStart) return false;
  if (!here.bootId || !here.pidNamespace) return false;
  if (recorded.hostname !== here.hostname) return false;
  if (recorded.bootId !== here.bootId || recorded.pidNamespace !== here.pidNamespace) return false;
  if (pidIsFree(recorded.pid)) return true;
  // The pid is taken: by the same process, or by a later one (even this one). /proc may hide other
  // users' processes (hidepid): then their start time is unknown and the process is left alone.
  const start = processStartOf(recorded.pid);
  return start !== null && start !== recorded.processStart;
}
