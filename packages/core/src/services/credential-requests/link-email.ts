import type { RenderedEmail } from "../notifications/render.ts";

export interface LinkEmailInput {
  login: string;
  serverName: string;
  url: string;
  expiresAt: Date;
  reminder: boolean;
}

/** "Mon, 14 Dec 2026 10:00 UTC": unambiguous for an owner anywhere. */
function formatExpiry(at: Date): string {
  return `${at.toUTCString().replace(/:\d\d GMT$/, "")} UTC`;
}

/**
 * The email that asks a mailbox's owner for the old password. Plain words, the one link, when it stops
 * working, and what to do if it was not expected. It says nothing else about the installation.
 */
export function renderLinkEmail(input: LinkEmailInput): RenderedEmail {
  const subject = input.reminder
    ? `Reminder: your mailbox ${input.login} is waiting for its password`
    : `Action needed: your mailbox ${input.login} is being moved`;
  const lines = [
    "Hello,",
    "",
    `Your mailbox ${input.login} (on ${input.serverName}) is being moved to a new server. To copy your mail, the move needs the password of this old mailbox, once.`,
    "",
    "Open this link and enter it there:",
    input.url,
    "",
    `The link works once, until ${formatExpiry(input.expiresAt)}.${input.reminder ? " You have not used it yet." : ""}`,
    "",
    "If you did not expect this email, ignore it: nothing happens without your password. Never send the password by email.",
  ];
  return { subject, text: `${lines.join("\n")}\n` };
}
