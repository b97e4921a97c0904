import { readFileSync } from "node:fs";
import path from "node:path";

/** Real imapsync 2.229 output (see its README), for the parser, the progress tracker and the runner. */
export const IMAPSYNC_FIXTURES = path.resolve(import.meta.dirname, "../fixtures/imapsync");

/** One fixture log as text. */
export function readImapsyncFixture(name: string): string {
  return readFileSync(path.join(IMAPSYNC_FIXTURES, name), "utf8");
}
