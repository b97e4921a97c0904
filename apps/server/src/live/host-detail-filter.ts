import type { LogText } from "@imapferry/core";
import { withoutHostDetails } from "@imapferry/core";
import { type TrackedEnvelope, tracked } from "@trpc/server";

/**
 * A log tail without the lines that describe imapferry's machine (see host-details.ts), for tokens
 * that are not admin. Lines are judged whole: text after the last line break waits for the rest of
 * its line, and each event's id is the offset just after what was sent, so a reconnect resumes at
 * the start of the line that was held back.
 */
export async function* withoutHostDetailLines(
  events: AsyncGenerator<TrackedEnvelope<LogText>>,
): AsyncGenerator<TrackedEnvelope<LogText>> {
  let carry = "";
  let carryOffset = 0;
  for await (const [, piece] of events) {
    const start = carry === "" ? piece.offset : carryOffset;
    const text = carry + piece.text;
    const cut = text.lastIndexOf("\n") + 1;
    const whole = text.slice(0, cut);
    carry = text.slice(cut);
    carryOffset = start + Buffer.byteLength(whole);
    // A heartbeat (empty text) still goes out, at the position already sent.
    if (whole === "" && piece.text !== "") continue;
    yield tracked(String(carryOffset), { offset: start, text: withoutHostDetails(whole) });
  }
  if (carry !== "") {
    yield tracked(String(carryOffset + Buffer.byteLength(carry)), {
      offset: carryOffset,
      text: withoutHostDetails(carry),
    });
  }
}
