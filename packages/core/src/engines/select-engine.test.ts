import { spawnSync } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveEngine } from "./select-engine.ts";

describe("resolveEngine", () => {
  let dir: string;
  let fakeImapsync: string;
  const imapsyncOnPath = spawnSync("imapsync", ["--version"]).error === undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "imapferry-engine-"));
    fakeImapsync = path.join(dir, "imapsync");
    // Stands in for the real script: `imapsync --version` prints just the release.
    await writeFile(fakeImapsync, "#!/bin/sh\necho 2.229\n");
    await chmod(fakeImapsync, 0o755);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("builtin: this Node binary running the built-in engine's script, with the package version", async () => {
    const engine = await resolveEngine({ engine: "builtin" });
    expect(engine.kind).toBe("builtin");
    expect(engine.bin).toBe(process.execPath);
    expect(engine.prefixArgs[engine.prefixArgs.length - 1]).toMatch(/engines\/builtin\/cli\.(ts|js)$/);
    expect(engine.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("auto: imapsync from IMAPSYNC_BIN when it runs, with its version", async () => {
    expect(await resolveEngine({ engine: "auto", imapsyncBin: fakeImapsync })).toEqual({
      kind: "imapsync",
      bin: fakeImapsync,
      prefixArgs: [],
      version: "2.229",
    });
    expect((await resolveEngine({ engine: "imapsync", imapsyncBin: fakeImapsync })).kind).toBe("imapsync");
  });

  it("looks a command name up on PATH and runs it by absolute path (the engine gets a minimal PATH)", async () => {
    // `sh --version` is no imapsync: the error shows which file was probed.
    await expect(resolveEngine({ engine: "imapsync", imapsyncBin: "sh" })).rejects.toMatchObject({
      code: "CONFIG",
      message: expect.stringMatching(/IMAPSYNC_BIN=sh: `\/(usr\/)?bin\/sh --version` failed/),
    });
    expect(path.isAbsolute((await resolveEngine({ engine: "auto", imapsyncBin: fakeImapsync })).bin)).toBe(
      true,
    );
  });

  it.skipIf(imapsyncOnPath)(
    "auto: the built-in engine when neither IMAPSYNC_BIN nor PATH has imapsync",
    async () => {
      expect((await resolveEngine({ engine: "auto" })).kind).toBe("builtin");
    },
  );

  it("an explicit choice that cannot be honoured is a CONFIG error, never a silent fallback", async () => {
    const missing = path.join(dir, "no-such-imapsync");
    await expect(resolveEngine({ engine: "imapsync", imapsyncBin: missing })).rejects.toMatchObject({
      code: "CONFIG",
      message: expect.stringContaining(`IMAPSYNC_BIN=${missing}: not found`),
    });
    await expect(resolveEngine({ engine: "auto", imapsyncBin: missing })).rejects.toMatchObject({
      code: "CONFIG",
    });
    await expect(
      resolveEngine({ engine: "builtin", builtinCli: path.join(dir, "missing-cli.js") }),
    ).rejects.toMatchObject({ code: "CONFIG", message: expect.stringContaining("missing") });
  });
});
