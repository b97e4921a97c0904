import { describe, expect, it } from "vitest";
import { ImapferryError } from "../errors.ts";
import { decideOutcome, outcomeOfRunError } from "./decide-outcome.ts";
import type { EngineRunResult } from "./engine-run.ts";
import { WorkerKeyError } from "./worker-key-error.ts";

const stats = { transferredMessages: 3 };

function result(overrides: Partial<EngineRunResult>): EngineRunResult {
  return {
    exitCode: 0,
    category: "ok",
    sentence: "The migration finished without errors.",
    stats,
    ...overrides,
  };
}

describe("decideOutcome", () => {
  it("a clean exit is done, with the engine's statistics and no sentence", () => {
    expect(decideOutcome(result({}), null)).toEqual({
      status: "done",
      exitCode: 0,
      category: "ok",
      sentence: null,
      stats,
    });
  });

  it("a failing exit is failed, with the engine's category and sentence", () => {
    const failed = result({
      exitCode: 161,
      category: "source-auth",
      sentence: "The source server rejected the password for a@example.com.",
      stats: null,
    });
    expect(decideOutcome(failed, null)).toEqual({
      status: "failed",
      exitCode: 161,
      category: "source-auth",
      sentence: "The source server rejected the password for a@example.com.",
      stats: null,
    });
  });

  it("an operator's cancel keeps the engine's cancel sentence and what it copied", () => {
    const cancelled = result({
      exitCode: null,
      category: "cancelled",
      sentence: "The migration was cancelled.",
    });
    expect(decideOutcome(cancelled, "cancel")).toEqual({
      status: "cancelled",
      exitCode: null,
      category: "cancelled",
      sentence: "The migration was cancelled.",
      stats,
    });
  });

  it("a cancel wins over an engine that exited on its own just then", () => {
    const outcome = decideOutcome(result({ exitCode: 0 }), "cancel");
    expect(outcome).toMatchObject({ status: "cancelled", exitCode: 0, category: "cancelled" });
    expect(outcome.sentence).toBe("Cancelled; what was already copied stays on the destination.");
  });

  it("a run whose engine never started and nobody stopped is cancelled", () => {
    expect(decideOutcome(null, null)).toEqual({
      status: "cancelled",
      exitCode: null,
      category: "cancelled",
      sentence: "Cancelled; what was already copied stays on the destination.",
      stats: null,
    });
  });

  it("a cancel before the engine started says what stays on the destination", () => {
    expect(decideOutcome(null, "cancel")).toMatchObject({
      status: "cancelled",
      sentence: "Cancelled; what was already copied stays on the destination.",
    });
  });

  it("a lost lease or a hand-back keeps what the engine reported", () => {
    const failed = result({ exitCode: 6, category: "signal", sentence: "Stopped by a signal." });
    expect(decideOutcome(failed, "lost")).toMatchObject({ status: "failed", category: "signal" });
    expect(decideOutcome(failed, "handback")).toMatchObject({ status: "failed", category: "signal" });
    expect(decideOutcome(null, "handback")).toMatchObject({ status: "cancelled", sentence: null });
  });
});

describe("outcomeOfRunError", () => {
  it("a worker without the key blames the worker's key, in the error's own sentence", () => {
    const error = new WorkerKeyError("worker-2", "no key with id k2.");
    expect(error).toBeInstanceOf(ImapferryError);
    expect(error.code).toBe("CONFIG");
    expect(outcomeOfRunError(error)).toEqual({
      status: "failed",
      exitCode: null,
      category: "worker-key",
      sentence:
        "The worker on worker-2 cannot decrypt this job's passwords (no key with id k2.) Give every worker the same IMAPFERRY_SECRET_KEY, then rerun the job.",
      stats: null,
    });
  });

  it("any other error fails the run on this worker with its message", () => {
    const error = new ImapferryError(
      "CONFIG",
      "The migration engine /nope could not be started: it was not found.",
    );
    expect(outcomeOfRunError(error)).toEqual({
      status: "failed",
      exitCode: null,
      category: "engine",
      sentence:
        "The migration could not be run on this worker: The migration engine /nope could not be started: it was not found.",
      stats: null,
    });
    expect(outcomeOfRunError("boom")).toMatchObject({
      category: "engine",
      sentence: expect.stringContaining("boom"),
    });
  });
});
