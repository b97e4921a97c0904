import type { ServerSecurity } from "@imapferry/db";

/** A provider's IMAP endpoint and its published per-account limits, to fill a server entry with. */
export interface ServerPreset {
  label: string;
  host: string;
  port: number;
  security: ServerSecurity;
  /** Bytes one account may download over IMAP per day; null when the provider publishes none. */
  dailyDownloadBytes: number | null;
  /** Bytes one account may upload over IMAP per day; null when the provider publishes none. */
  dailyUploadBytes: number | null;
  /** Simultaneous IMAP connections one account may hold. */
  maxConnections: number;
}

const MB = 1_000_000;

export const SERVER_PRESET_NAMES = ["gmail", "office365"] as const;
export type ServerPresetName = (typeof SERVER_PRESET_NAMES)[number];

/**
 * The providers' published limits. Gmail: "Gmail bandwidth limits" in the Google Workspace Admin
 * Help (support.google.com/a/answer/1071518): 2,500 MB of IMAP download and 500 MB of IMAP upload per
 * account per day, 15 simultaneous IMAP connections per account. Office 365: the Exchange Online
 * limits (learn.microsoft.com/office365/servicedescriptions/exchange-online-service-description/
 * exchange-online-limits, and the Exchange Online throttling FAQ) allow 20 concurrent IMAP4
 * connections per mailbox and publish no daily IMAP byte budget: Exchange Online throttles per
 * request instead ("Suggested Backoff Time"), which the retry policy honours.
 */
export const SERVER_PRESETS: Record<ServerPresetName, ServerPreset> = {
  gmail: {
    label: "Gmail / Google Workspace",
    host: "imap.gmail.com",
    port: 993,
    security: "tls",
    dailyDownloadBytes: 2500 * MB,
    dailyUploadBytes: 500 * MB,
    maxConnections: 15,
  },
  office365: {
    label: "Office 365 / Exchange Online",
    host: "outlook.office365.com",
    port: 993,
    security: "tls",
    dailyDownloadBytes: null,
    dailyUploadBytes: null,
    maxConnections: 20,
  },
};
