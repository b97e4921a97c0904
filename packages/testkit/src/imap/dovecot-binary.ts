import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { installDebianPackage } from "../debian-package.ts";

export interface DovecotBinaries {
  dovecot: string;
  doveadm: string;
}

const SEARCH_DIRS = ["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin", "/sbin", "/bin"];

function locate(name: string): string | undefined {
  // `command -v` honours the caller's PATH; sbin is often off PATH for non-root users, so look there too.
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  const fromPath = found.status === 0 ? found.stdout.trim() : "";
  if (fromPath !== "") return fromPath;
  return SEARCH_DIRS.map((dir) => `${dir}/${name}`).find((candidate) => existsSync(candidate));
}

let cached: DovecotBinaries | undefined;

/**
 * Finds dovecot and doveadm. When they are missing and we are root, installs Debian's dovecot-imapd;
 * otherwise fails with one line saying what to install.
 */
export function ensureDovecot(): DovecotBinaries {
  if (cached) return cached;
  let dovecot = locate("dovecot");
  let doveadm = locate("doveadm");
  if ((!dovecot || !doveadm) && installDebianPackage("dovecot-imapd")) {
    dovecot = locate("dovecot");
    doveadm = locate("doveadm");
  }
  if (!dovecot || !doveadm) {
    throw new Error("Dovecot is not installed: run `apt-get install dovecot-imapd` (as root) and try again.");
  }
  cached = { dovecot, doveadm };
  return cached;
}
