import { getEventListeners } from "node:events";
import { expect, it } from "vitest";
import { linkedController } from "./retry.ts";

it("a linked controller follows its parent, and lets go of it once it is done", () => {
  const session = new AbortController();
  const finished = Array.from({ length: 20 }, () => linkedController(session.signal));
  for (const follow of finished) follow.abort();
  expect(getEventListeners(session.signal, "abort")).toHaveLength(0);

  const live = linkedController(session.signal);
  session.abort();
  expect(live.signal.aborted).toBe(true);
});

it("many linked controllers on one parent add no listener to it (no MaxListenersExceededWarning)", () => {
  const session = new AbortController();
  const follows = Array.from({ length: 500 }, () => linkedController(session.signal));
  expect(getEventListeners(session.signal, "abort")).toHaveLength(0);
  follows[0]?.abort();
  expect(follows[0]?.signal.aborted).toBe(true);
  expect(follows[1]?.signal.aborted).toBe(false);
  session.abort();
  expect(follows.every((follow) => follow.signal.aborted)).toBe(true);
});
