import type { ServiceContext } from "../../context.ts";
import { getSettings } from "../settings/index.ts";

/** The two settings notifications depend on. */
export interface NotificationSettings {
  /** Who gets the emails; empty = nobody (nothing is sent). */
  notificationRecipients: string[];
  /** Also email for each job of a batch, not only the batch summary. @defaultValue false */
  perJobEmailsInBatches: boolean;
}

/**
 * Read at every job end (not cached): a recipient added in the panel applies to the next email, on
 * every worker. The settings service falls back to defaults for missing or malformed values, so a
 * broken setting never stops the notification task.
 */
export async function readNotificationSettings(
  ctx: Pick<ServiceContext, "db">,
): Promise<NotificationSettings> {
  const settings = await getSettings(ctx);
  return {
    notificationRecipients: [...new Set(settings.notificationRecipients.map((r) => r.trim()))],
    perJobEmailsInBatches: settings.perJobEmailsInBatches,
  };
}
