import type { CredentialRequestRow, CredentialRequestStatus } from "@imapferry/db";

/**
 * A job's credential link as the API and the panel see it: never the token, never a password. `url`
 * is set only in the answer of the call that issued the link with `returnLink` (shown once, as API
 * tokens are): only the token's hash is stored, so it cannot be shown again.
 */
export interface CredentialRequestView {
  id: number;
  /** `expired` also for a pending link past its expiry that the expiry task has not marked yet. */
  status: CredentialRequestStatus;
  ownerEmail: string | null;
  createdAt: Date;
  expiresAt: Date;
  /** When the link was emailed to the owner; null while the email is on its way, or never (returned only). */
  emailedAt: Date | null;
  /** Why the email has not gone out yet, when the SMTP server refused it. */
  emailError: string | null;
  remindersSent: number;
  lastReminderAt: Date | null;
  /** Passwords tried on the link that the server refused. */
  failedAttempts: number;
  usedAt: Date | null;
  url: string | null;
}

export type CredentialRequestColumns = Pick<
  CredentialRequestRow,
  | "id"
  | "status"
  | "owner_email"
  | "created_at"
  | "expires_at"
  | "emailed_at"
  | "email_error"
  | "reminders_sent"
  | "last_reminder_at"
  | "failed_attempts"
  | "used_at"
>;

/** A pending link past its expiry is expired, whether or not the expiry task has run. */
export function effectiveStatus(
  row: Pick<CredentialRequestRow, "status" | "expires_at">,
  now: Date,
): CredentialRequestStatus {
  return row.status === "pending" && row.expires_at.getTime() <= now.getTime() ? "expired" : row.status;
}

/** `row.status` is the effective one (the SQL of the jobs' views computes it with the database's clock). */
export function toCredentialRequestView(row: CredentialRequestColumns): CredentialRequestView {
  return {
    id: row.id,
    status: row.status,
    ownerEmail: row.owner_email,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    emailedAt: row.emailed_at,
    emailError: row.email_error,
    remindersSent: row.reminders_sent,
    lastReminderAt: row.last_reminder_at,
    failedAttempts: row.failed_attempts,
    usedAt: row.used_at,
    url: null,
  };
}
