import { describe, expect, it } from "vitest";
import { rowsToCsv } from "./batches.ts";

describe("rowsToCsv", () => {
  it("adds a column per option any row sets, lists ';'-separated and folder mappings as from=to", () => {
    const csv = rowsToCsv([
      {
        sourceServerId: 1,
        sourceEmail: "a@old.example",
        sourcePassword: 'pa,ss "x"',
        destServerId: 2,
        destEmail: "a@new.example",
        destPassword: "p",
        options: {
          addHeader: false,
          folders: ["INBOX", "Sent Items"],
          folderMap: [{ from: "Sent Items", to: "Sent" }],
        },
      },
      { sourceServerId: 1, sourceEmail: "b@old.example", destServerId: 2, destEmail: "b@new.example" },
    ]);
    expect(csv.split("\r\n")).toEqual([
      "sourceServerId,sourceEmail,sourcePassword,destServerId,destEmail,destPassword,name,dryRun,folders,folderMap,addHeader",
      '1,a@old.example,"pa,ss ""x""",2,a@new.example,p,,,INBOX;Sent Items,Sent Items=Sent,false',
      "1,b@old.example,,2,b@new.example,,,,,,",
      "",
    ]);
  });
});
