import { describe, expect, it } from "vitest";
import { emptyProgress } from "../src/queue/progress-tracker.ts";
import { notificationStatus } from "../src/services/notifications/config.ts";
import { redactSecrets } from "../src/services/notifications/content.ts";
import {
  formatBytes,
  formatDuration,
  MAX_LISTED_FAILURES,
  renderBatchEmail,
  renderJobEmail,
  summarizeJobStats,
} from "../src/services/notifications/render.ts";
import { smtpConfigSchema } from "../src/services/notifications/schemas.ts";

describe("notification status", () => {
  it("is off without SMTP, saying which variables to set", () => {
    expect(notificationStatus({ smtp: undefined, from: "a@b.example" })).toEqual({
      enabled: false,
      reason:
        "Email notifications are off: SMTP is not configured (set SMTP_URL, or SMTP_HOST and SMTP_PORT).",
    });
    expect(notificationStatus({ smtp: {}, from: "a@b.example" }).enabled).toBe(false);
  });

  it("is on with SMTP and names the server but never the user or password", () => {
    const status = notificationStatus({
      smtp: { url: "smtps://mailer:Hunter2-secret@smtp.example.com" },
      from: "imapferry <ferry@example.com>",
    });
    expect(status.enabled).toBe(true);
    expect(status.reason).toBe(
      "Emails are sent through smtp.example.com:465 from imapferry <ferry@example.com>.",
    );
    expect(status.reason).not.toContain("Hunter2");
    expect(status.reason).not.toContain("mailer");
  });

  it("says so when SMTP is configured but nobody is to be told", () => {
    const status = notificationStatus(
      { smtp: { host: "smtp.example.com", port: 587 }, from: "f@example.com" },
      [],
    );
    expect(status).toEqual({
      enabled: false,
      reason:
        "SMTP is configured (smtp.example.com:587) but no notification recipients are set in the settings.",
    });
  });

  it("rejects an SMTP URL that is not smtp:// or smtps://", () => {
    expect(smtpConfigSchema.safeParse({ url: "http://smtp.example.com" }).success).toBe(false);
    const status = notificationStatus({
      smtp: { url: "http://x:pw@smtp.example.com" },
      from: "f@example.com",
    });
    expect(status.enabled).toBe(false);
    expect(status.reason).toContain("SMTP_URL must start with smtp:// or smtps://");
  });
});

describe("email content", () => {
  it("reads the imapsync statistics, falling back to the last progress and the run's timestamps", () => {
    const started = new Date("2026-11-23T05:00:00Z");
    const finished = new Date("2026-11-23T06:02:05Z");
    expect(
      summarizeJobStats({
        stats: null,
        progress: { ...emptyProgress(10), copied: 7, skipped: 1, errors: 2, bytesCopied: 2048 },
        started_at: started,
        finished_at: finished,
      }),
    ).toEqual({ transferred: 7, skipped: 1, errors: 2, bytes: 2048, durationSeconds: 3725 });
    expect(formatDuration(3725)).toBe("1 h 2 min");
    expect(formatDuration(0.5)).toBe("0.5 s");
    expect(formatBytes(512)).toBe("512 bytes");
    expect(formatBytes(137_363_456)).toBe("131.0 MiB");
  });

  it("marks a dry run in the subject", () => {
    const email = renderJobEmail({
      jobId: 3,
      name: "",
      status: "done",
      sourceEmail: "a@x.example",
      destEmail: "a@x.example",
      dryRun: true,
      batchTag: null,
      stats: { transferred: 0, skipped: 0, errors: 0, bytes: null, durationSeconds: 1 },
      errorMessage: null,
      url: "http://localhost:8080/jobs/3",
    });
    expect(email.subject).toBe("[imapferry] Done (dry run): a@x.example");
    expect(email.text).toContain("Transferred:  0 messages\n");
  });

  it("lists at most a hundred failed mailboxes in a batch summary and counts the rest", () => {
    const failed = Array.from({ length: MAX_LISTED_FAILURES }, (_, i) => ({
      jobId: i + 1,
      sourceEmail: `u${i}@old.example`,
      destEmail: `u${i}@new.example`,
      errorMessage: "Source password rejected.",
    }));
    const email = renderBatchEmail({
      batchId: 9,
      tag: "big",
      counts: { failed: 130, done: 870, cancelled: 2 },
      failed,
      url: "http://localhost:8080/jobs?batch=9",
    });
    expect(email.subject).toBe("[imapferry] Batch big finished: 870 done, 130 failed, 2 cancelled");
    expect(email.text.match(/^- u\d+@old\.example/gm)).toHaveLength(MAX_LISTED_FAILURES);
    expect(email.text).toContain("- … and 30 more");
  });

  it("redacts every occurrence of a secret, ignoring ones too short to be told from words", () => {
    expect(redactSecrets("pw=s3cr3t! again s3cr3t!", ["s3cr3t!", "ab"])).toBe(
      "pw=[redacted] again [redacted]",
    );
  });
});
