import { describe, expect, test } from "vitest";
import { formatBytes, formatCount, formatDuration, formatElapsed, pluralize } from "./format.ts";

describe("display formatting", () => {
  test("sizes read in binary units with one decimal below 100", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes("5095253")).toBe("4.9 MiB");
    expect(formatBytes(null)).toBe("—");
  });

  test("durations read like a person says them", () => {
    expect(formatDuration(8)).toBe("8s");
    expect(formatDuration(75)).toBe("1m 15s");
    expect(formatDuration(3 * 3600 + 5 * 60)).toBe("3h 05m");
    expect(formatDuration(null)).toBe("—");
  });

  test("measured durations keep the log's tenth of a second under a minute", () => {
    expect(formatElapsed(1.4)).toBe("1.4 s");
    expect(formatElapsed(18.3)).toBe("18.3 s");
    expect(formatElapsed(0)).toBe("0.0 s");
    expect(formatElapsed(75)).toBe("1m 15s");
    expect(formatElapsed(null)).toBe("—");
  });

  test("counts and plurals", () => {
    expect(formatCount(undefined)).toBe("—");
    expect(pluralize(1, "job")).toBe("1 job");
    expect(pluralize(3, "row")).toBe("3 rows");
  });
});
