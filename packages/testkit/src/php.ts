import { spawnSync } from "node:child_process";
import { installDebianPackage } from "./debian-package.ts";

function phpWithCurl(): boolean {
  const modules = spawnSync("php", ["-m"], { encoding: "utf8" });
  return modules.status === 0 && /^curl$/m.test(modules.stdout);
}

/**
 * Debian's php-cli with its curl module, for the PHP examples' tests: installed as root where missing,
 * as Dovecot and Chromium are, so `pnpm test` needs no setup step of its own. Throws one line saying
 * what to install otherwise.
 */
export function ensurePhp(): void {
  if (phpWithCurl()) return;
  if (installDebianPackage("php-cli php-curl") && phpWithCurl()) return;
  throw new Error(
    "The PHP example tests need php-cli and php-curl: apt-get install php-cli php-curl (as root).",
  );
}
