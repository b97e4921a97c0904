import type { AdminLogin } from "./types.ts";

/** What goes on the wire for one side's login: who authenticates, and for whom. */
export interface WireLogin {
  /** The user the server is asked for (LOGIN's user, SASL PLAIN's authorization identity with `authUser`). */
  user: string;
  /** SASL PLAIN's authentication identity: the admin who logs in on behalf of `user`. */
  authUser?: string;
}

/**
 * How a mailbox login and an optional admin login become a login on the wire:
 * - no admin: the mailbox login itself, with the mailbox's password;
 * - `sasl-authzid`: SASL PLAIN authenticating as the admin, authorized as the mailbox (imapsync's
 *   `--user1 mailbox --authuser1 admin`, imapflow's `auth.authzid`);
 * - `login-separator`: a plain login as "<mailbox><separator><admin>" (Dovecot's
 *   auth_master_user_separator form), with the admin's password.
 */
export function wireLogin(endpoint: { user: string; admin?: AdminLogin | undefined }): WireLogin {
  const admin = endpoint.admin;
  if (!admin) return { user: endpoint.user };
  if (admin.mode === "sasl-authzid") return { user: endpoint.user, authUser: admin.login };
  return { user: `${endpoint.user}${admin.separator}${admin.login}` };
}
