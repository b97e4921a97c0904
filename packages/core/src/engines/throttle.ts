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
  const wait = /Suggested Backoff Time: (\d+) milliseconds/i.exec(line);
  const host = /\bhost([12])\b/i.exec(line)?.[1];
  // Without a host named, what failed says the side: messages are fetched from the source and
  // appended to the destination.
  const side =
    host === "1" || (!host && /\bfetch/i.test(line))
      ? "source"
      : host === "2" || (!host && /\bappend/i.test(line))
        ? "destination"
        : null;
  // The server's own words: from its NO or BYE when the line has one, else from the match.
  const answer = line.search(/\b(?:NO|BAD|BYE) \[/);
  const from = answer >= 0 && answer <= match.index ? answer : match.index;
  const detail = line.slice(from).trim();
  return {
    side,
    waitMs: wait ? Number(wait[1]) : null,
    detail: detail.length > 160 ? `${detail.slice(0, 160)}…` : detail,
  };
}
