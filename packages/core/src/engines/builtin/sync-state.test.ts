import { describe, expect, it } from "vitest";
import { fromRuns, parseFolderState, toRuns } from "./sync-state.ts";

describe("the sync state's UID map", () => {
  it("keeps a folder copied in order as one run, and gaps as separate runs", () => {
    const pairs = new Map<number, number>();
    for (let uid = 1; uid <= 100_000; uid++) pairs.set(uid, uid + 10);
    expect(toRuns(pairs)).toEqual([[1, 11, 100_000]]);
    pairs.delete(500);
    pairs.set(200_000, 7);
    expect(toRuns(pairs)).toEqual([
      [1, 11, 499],
      [501, 511, 99_500],
      [200_000, 7, 1],
    ]);
    expect(fromRuns(toRuns(pairs))).toEqual(pairs);
  });

  it("ignores stored records of another shape", () => {
    const good = {
      sourceFolder: "INBOX",
      destinationFolder: "INBOX",
      selection: "[]",
      source: { uidValidity: "1", uidNext: 5, highestModseq: null, messages: 4 },
      destination: { uidValidity: "9", uidNext: 5, highestModseq: "12", messages: 4 },
      copies: [[1, 1, 4]],
      unclaimed: [],
    };
    expect(parseFolderState(good)).toEqual(good);
    expect(parseFolderState({ ...good, copies: [[1, 1]] })).toBeUndefined();
    expect(parseFolderState({ ...good, source: { uidValidity: 1 } })).toBeUndefined();
    expect(parseFolderState(null)).toBeUndefined();
  });
});
