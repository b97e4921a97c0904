import type { EngineSide } from "./imapsync/parser.ts";

/** A server asking the engine to slow down or come back later, as read from one output line. */
export interface Throttle {
  /** Which server said it, when the line names it (imapsync's "host1"/"Host2", our "Host1:"). */
  side: EngineSide | null;
  /** How long the server asked to wait, when it said (Office 365's "Suggested Backoff Time"). */
  waitMs: number | null;
  /** The server's words, for the operator. */
  detail: string;
}

// What throttling looks like on the wire: Office 365's "Suggested Backoff Time: 299961 milliseconds"
// (then BYE), Gmail's [THROTTLED] / "Account exceeded command or bandwidth limits", and RFC 5530's
// [LIMIT] / [UNAVAILABLE] response codes. Both engines print the server's answer in their error lines.
const THROTTLE =
  /Suggested Backoff Time: (\d+) milliseconds|\[THROTTLED\]|exceeded command or bandwidth limits|\[(?:LIMIT|UNAVAILABLE)\]/i;

/** Whether this engine output line reports throttling, and what it says. */
export function throttleIn(line: string): Throttle | null {
  const match = THROTTLE.exec(line);
  if (!match) return null;
  const host = /\bhost([12])\b/i.exec(line)?.[1];
  const at = Math.max(0, match.index - 40);
  return {
    side: host === "1" ? "source" : host === "2" ? "destination" : null,
    waitMs: match[1] === undefined ? null : Number(match[1]),
    detail: line.slice(at, match.index + match[0].length + 40).trim(),
  };
}
