import { type SmtpConfig, smtpConfigSchema } from "./schemas.ts";

/** What the notification tasks need from the server's configuration. */
export interface NotificationConfig {
  /** Undefined or null when SMTP is not configured: notifications are then off. */
  smtp?: SmtpConfig | null | undefined;
  /** NOTIFY_FROM: the From address of every email, e.g. `imapferry <imapferry@example.com>`. */
  from?: string | null | undefined;
}

export interface NotificationStatus {
  enabled: boolean;
  /** One sentence for /healthz and the settings page. Never contains a credential. */
  reason: string;
}

/** True when `smtp` names a server to talk to. */
export function isSmtpConfigured(smtp: SmtpConfig | null | undefined): smtp is SmtpConfig {
  return smtp !== null && smtp !== undefined && (Boolean(smtp.url) || Boolean(smtp.host));
}

/** "smtp.example.com:587" for messages: host and port only, never the user or the password. */
export function describeSmtpServer(smtp: SmtpConfig): string {
  if (smtp.url) {
    try {
      const url = new URL(smtp.url);
      const secure = url.protocol.toLowerCase() === "smtps:";
      return `${url.hostname}:${url.port || (secure ? "465" : "587")}`;
    } catch {
      return "(unparseable SMTP_URL)";
    }
  }
  return `${smtp.host ?? "?"}:${smtp.port ?? (smtp.secure ? 465 : 587)}`;
}

/**
 * Whether emails go out, and why not. `recipients`, when given (from the settings), turns "configured
 * but nobody to tell" into a reason too.
 */
export function notificationStatus(
  config: NotificationConfig,
  recipients?: readonly string[],
): NotificationStatus {
  if (!isSmtpConfigured(config.smtp)) {
    return {
      enabled: false,
      reason:
        "Email notifications are off: SMTP is not configured (set SMTP_URL, or SMTP_HOST and SMTP_PORT).",
    };
  }
  const parsed = smtpConfigSchema.safeParse(config.smtp);
  if (!parsed.success) {
    return {
      enabled: false,
      reason: `Email notifications are off: ${parsed.error.issues[0]?.message ?? "the SMTP settings are invalid"}.`,
    };
  }
  if (!config.from) {
    return { enabled: false, reason: "Email notifications are off: NOTIFY_FROM is not set." };
  }
  const server = describeSmtpServer(parsed.data);
  if (recipients !== undefined && recipients.length === 0) {
    return {
      enabled: false,
      reason: `SMTP is configured (${server}) but no notification recipients are set in the settings.`,
    };
  }
  return { enabled: true, reason: `Emails are sent through ${server} from ${config.from}.` };
}
