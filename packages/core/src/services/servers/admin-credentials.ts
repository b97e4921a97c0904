import type { ServerRow } from "@imapferry/db";
import type { Vault } from "../../context.ts";
import type { AdminLogin, EndpointSpec } from "../../engines/types.ts";
import { ImapferryError } from "../../errors.ts";

/** A server's admin credentials, decrypted: for the engine's environment and nothing else. */
export interface ServerAdminCredentials extends AdminLogin {
  password: string;
}

type AdminColumns = Pick<ServerRow, "admin_mode" | "admin_login" | "admin_secret" | "admin_separator">;

/** Whether the server holds admin credentials (jobs on it may then leave out the mailbox password). */
export function hasAdminCredentials(row: Pick<ServerRow, "admin_mode">): boolean {
  return row.admin_mode !== null;
}

/** The server's admin credentials, decrypted, or null when it has none. Throws the vault's CONFIG error. */
export function adminCredentialsOf(vault: Vault, row: AdminColumns): ServerAdminCredentials | null {
  if (!row.admin_mode || !row.admin_login || !row.admin_secret) return null;
  return {
    mode: row.admin_mode,
    login: row.admin_login,
    separator: row.admin_separator ?? "*",
    password: vault.decrypt(row.admin_secret),
  };
}

/** A job has neither a password of its own for a side nor admin credentials on that side's server. */
export class MissingCredentialsError extends ImapferryError {
  readonly side: "source" | "destination";

  constructor(side: "source" | "destination", serverName: string, login: string) {
    super(
      "BAD_INPUT",
      `The job has no ${side} password for ${login}, and the ${side} server "${serverName}" has no admin credentials (any more). Edit the job to enter the ${side} password, or give the server admin credentials, then rerun it.`,
    );
    this.name = "MissingCredentialsError";
    this.side = side;
  }
}

/**
 * How one side of a job logs in: with the job's own password when it has one (it wins), else as the
 * server's admin on behalf of the mailbox login. Throws MissingCredentialsError when there is neither,
 * and the vault's CONFIG error when a secret cannot be decrypted.
 */
export function endpointCredentials(
  vault: Vault,
  side: "source" | "destination",
  server: Pick<ServerRow, "name"> & AdminColumns,
  login: string,
  secret: string | null,
): Pick<EndpointSpec, "user" | "password" | "admin"> {
  if (secret !== null) return { user: login, password: vault.decrypt(secret) };
  const admin = adminCredentialsOf(vault, server);
  if (!admin) throw new MissingCredentialsError(side, server.name, login);
  const { password, ...adminLogin } = admin;
  return { user: login, password, admin: adminLogin };
}
