import { getEventListeners } from "node:events";
import { expect, it } from "vitest";
import { linkedController } from "./errors.ts";

it("a linked controller follows its parent, and lets go of it once it is done", () => {
  const session = new AbortController();
  const finished = Array.from({ length: 20 }, () => linkedController(session.signal));
  for (const follow of finished) follow.abort();
  expect(getEventListeners(session.signal, "abort")).toHaveLength(0);

  const live = linkedController(session.signal);
  session.abort();
  expect(live.signal.aborted).toBe(true);
});
