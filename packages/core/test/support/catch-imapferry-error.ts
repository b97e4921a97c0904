import { ImapferryError } from "../../src/errors.ts";

/** The ImapferryError `fn` throws; anything else it throws, or nothing thrown, fails the test. */
export function catchImapferryError(fn: () => unknown): ImapferryError {
  try {
    fn();
  } catch (e: unknown) {
    if (e instanceof ImapferryError) return e;
    throw e;
  }
  throw new Error("expected an ImapferryError");
}
