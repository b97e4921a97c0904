import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import {
  currentProcessIdentity,
  hasCertainlyExited,
  type ProcessIdentity,
  processStartOf,
} from "./process-identity.ts";

const here = currentProcessIdentity();
const linux = here.bootId !== null && here.pidNamespace !== null && here.processStart !== null;

/** A real process that has exited, as a worker row recorded it while it ran. */
async function exitedProcess(): Promise<ProcessIdentity> {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
  await once(child, "spawn");
  const pid = child.pid!;
  const processStart = processStartOf(pid);
  child.kill("SIGKILL");
  await once(child, "exit");
  return { ...here, pid, processStart };
}

describe.runIf(linux)("hasCertainlyExited", () => {
  it("knows this process is alive", () => {
    expect(hasCertainlyExited(here, here)).toBe(false);
  });

  it("sees a process of this host, boot and pid namespace that exited", async () => {
    expect(hasCertainlyExited(await exitedProcess(), here)).toBe(true);
  });

  it("sees a reused pid as another process: its start time differs", () => {
    expect(hasCertainlyExited({ ...here, processStart: String(Number(here.processStart) - 1) }, here)).toBe(
      true,
    );
  });

  it("leaves alone what it cannot judge: another host, boot or pid namespace, or an incomplete record", async () => {
    const gone = await exitedProcess();
    expect(hasCertainlyExited({ ...gone, hostname: `${here.hostname}-other` }, here)).toBe(false);
    expect(hasCertainlyExited({ ...gone, bootId: "another-boot" }, here)).toBe(false);
    // A container with the same host name counts its own pids.
    expect(hasCertainlyExited({ ...gone, pidNamespace: "pid:[1]" }, here)).toBe(false);
    expect(hasCertainlyExited({ ...gone, processStart: null }, here)).toBe(false);
    expect(hasCertainlyExited(gone, { ...here, bootId: null })).toBe(false);
  });
});
