import { spawnSync } from "node:child_process";

/** How long an install waits for another apt or dpkg to let go of the package database. */
const LOCK_WAIT_SECONDS = 600;

/**
 * Installs a Debian package when we run as root (a fresh CI machine), so that `pnpm test` needs no
 * setup step of its own. Returns false when not root or when apt-get fails; the caller then stops
 * with one line saying what to install.
 */
export function installDebianPackage(name: string): boolean {
  if (process.getuid?.() !== 0) return false;
  // Through sh so that only apt sees DEBIAN_FRONTEND; dpkg must not stop to ask questions.
  const run = (command: string) =>
    spawnSync("sh", ["-c", `DEBIAN_FRONTEND=noninteractive ${command}`], { stdio: "ignore" }).status === 0;
  // A fresh machine's own apt-daily/unattended-upgrades, or another test file installing its package,
  // may hold dpkg's lock for a while: wait for it rather than fail the install at once.
  const waitForLock = `-o DPkg::Lock::Timeout=${LOCK_WAIT_SECONDS}`;
  const install = `apt-get ${waitForLock} install -y --no-install-recommends ${name}`;
  if (run(install)) return true;
  // A fresh machine has no package lists yet.
  run(`apt-get ${waitForLock} update`);
  return run(install);
}
