import { describe, expect, it } from "vitest";
import { ImapferryError } from "../errors.ts";
import { DeniedHostError } from "../net/deny-hosts.ts";
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

  it("a host on the deny-list fails the job as denied-host, saying which side", () => {
    expect(outcomeOfRunError(new DeniedHostError("destination"))).toEqual({
      status: "failed",
      exitCode: null,
      category: "denied-host",
      sentence: "The destination server's host is not allowed on this installation (IMAPFERRY_DENY_HOSTS).",
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

describe("decideOutcome with the check after the run", () => {
  const checked = (missing: number, reasons: Record<string, number> = {}) => ({
    verification: {
      checkedAt: "2026-01-01T00:00:00Z",
      folders: [],
      sourceMessages: 48,
      sourceBytes: 1000,
      destMessages: 48 - missing,
      destBytes: 900,
      missing,
      reasons,
      durationMs: 5,
    },
  });

  it("a clean exit whose check finds every message is done, with the check kept", () => {
    const outcome = decideOutcome(result({}), null, checked(0));
    expect(outcome.status).toBe("done");
    expect(outcome.verification?.missing).toBe(0);
  });

  it("a clean exit whose check finds mail missing is incomplete, with the counts and reasons", () => {
    const outcome = decideOutcome(
      result({}),
      null,
      checked(3, { "over maxMessageBytes": 2, "not on the destination": 1 }),
    );
    expect(outcome).toMatchObject({ status: "incomplete", category: "incomplete" });
    expect(outcome.sentence).toBe(
      "3 of 48 messages are not on the destination: 2 over maxMessageBytes, 1 not on the destination. The job page lists them by folder.",
    );
  });

  it("an over-quota exit with mail missing is incomplete and keeps the engine's sentence", () => {
    const outcome = decideOutcome(
      result({ exitCode: 113, category: "over-quota", sentence: "The destination is over quota." }),
      null,
      checked(1, { "refused by the destination": 1 }),
    );
    expect(outcome).toMatchObject({ status: "incomplete", category: "over-quota" });
    expect(outcome.sentence).toContain("The destination is over quota.");
  });

  it("a clean exit whose check could not run is not done", () => {
    const outcome = decideOutcome(result({}), null, { error: "could not run (connection refused)" });
    expect(outcome).toMatchObject({ status: "incomplete", category: "unverified" });
  });

  it("a dry run says what a real run would do in the same terms", () => {
    const outcome = decideOutcome(
      result({
        stats: {
          messagesWouldTransfer: 42,
          messagesSkipped: 6,
          cannotCopy: { "without identity": 0, "over maxMessageBytes": 0 },
        },
      }),
      null,
      null,
      true,
    );
    expect(outcome.sentence).toBe("Would copy 42, 6 already there, 0 cannot be copied.");
  });
});
