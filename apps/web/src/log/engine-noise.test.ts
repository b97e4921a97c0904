import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { isEngineNoise } from "./engine-noise.ts";

/** Real imapsync 2.229 output, kept with core's parser tests. */
const fixture = (name: string) =>
  readFileSync(
    new URL(`../../../../packages/core/test/fixtures/imapsync/${name}`, import.meta.url),
    "utf8",
  ).split("\n");

describe("imapsync's advice and host lines", () => {
  test("are recognised in a real dry run's output", () => {
    const noise = fixture("alice-dry.log").filter(isEngineNoise);
    for (const line of [
      "Docker context detected with the file /.dockerenv",
      "PID is 7058 my PPID is 7055",
      "Real user id is root (uid 0)",
      "In order to avoid sending/receiving ID, use option --noid",
      "Authen::NTLM         1.09",
      "File::Copy::Recursive 0.45",
    ])
      expect(noise).toContain(line);
    expect(noise.some((l) => l.startsWith("Here is imapsync 2.229 on host vm"))).toBe(true);
  });

  test("leave every line about the migration itself", () => {
    const kept = fixture("alice-dry.log").filter((line) => !isEngineNoise(line));
    for (const start of [
      "Transfer started at",
      "Host1: success login on [127.0.0.1] with user [alice]",
      "Host1: found 6 folders.",
      "++++ Statistics",
      "Messages transferred                    : 0 (could be 42 without dry mode)",
      "Transfer time                           : 0.4 sec",
      "Detected 0 errors",
      "Exiting with return value 0",
    ])
      expect(kept.some((line) => line.startsWith(start))).toBe(true);
    const errors = fixture("authfail.log").filter((line) => !isEngineNoise(line));
    expect(errors.some((line) => line.startsWith("Err 1/"))).toBe(true);
  });
});
