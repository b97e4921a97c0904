import { describe, expect, test } from "vitest";
import { formatByteSize, parseByteSize } from "./byte-size.ts";

describe("sizes in the option editor", () => {
  test("read as people write them, in binary units", () => {
    expect(parseByteSize("25 MB")).toBe(25 * 1024 * 1024);
    expect(parseByteSize("25mb")).toBe(25 * 1024 * 1024);
    expect(parseByteSize("1.5 GiB")).toBe(1.5 * 1024 ** 3);
    expect(parseByteSize("500 KB/s")).toBe(500 * 1024);
    expect(parseByteSize("2 M/s")).toBe(2 * 1024 * 1024);
    expect(parseByteSize("2048")).toBe(2048);
    expect(parseByteSize("0,5 MB")).toBe(512 * 1024);
  });

  test("anything else is not a size", () => {
    expect(parseByteSize("")).toBeNull();
    expect(parseByteSize("lots")).toBeNull();
    expect(parseByteSize("25 XB")).toBeNull();
    expect(parseByteSize("-3 MB")).toBeNull();
  });

  test("shown back in the largest unit that keeps them short", () => {
    expect(formatByteSize(25 * 1024 * 1024)).toBe("25 MB");
    expect(formatByteSize(1536)).toBe("1.5 KB");
    expect(formatByteSize(700)).toBe("700 bytes");
    expect(formatByteSize(2 * 1024 * 1024, true)).toBe("2 MB/s");
  });
});
