import { describe, expect, it } from "vitest";
import { throttleIn } from "./throttle.ts";

describe("throttleIn", () => {
  it("reads Office 365's suggested wait, Gmail's words and the side from the engines' lines", () => {
    expect(
      throttleIn(
        "Err 1/3: - msg INBOX/3 {2310} could not be fetched: 20 NO [THROTTLED] Request is throttled. Suggested Backoff Time: 8000 milliseconds",
      ),
    ).toEqual({
      side: "source",
      waitMs: 8000,
      detail: "NO [THROTTLED] Request is throttled. Suggested Backoff Time: 8000 milliseconds",
    });
    expect(
      throttleIn("Host2: could not append: NO [LIMIT] Account exceeded command or bandwidth limits"),
    ).toMatchObject({
      side: "destination",
      waitMs: null,
    });
    expect(throttleIn("msg INBOX/4 copied to INBOX/4 (limits are fine)")).toBeNull();
  });
});
