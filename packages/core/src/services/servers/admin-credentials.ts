import { ADMIN_MODES, type AdminMode, type ServerRow } from "@imapferry/db";
import type { Vault } from "../../context.ts";
import type { AdminLogin, EndpointSpec } from "../../engines/types.ts";
import { ImapferryError } from "../../errors.ts";
import { defaultTokenUrl, type OAuth2Grant } from "../../oauth2/grants.ts";
import { parseServiceAccountKey } from "../../oauth2/service-account-key.ts";

/** A server's admin credentials, decrypted: for the engine's environment and nothing else. */
export interface ServerAdminCredentials extends AdminLogin {
  password: string;
}

type AdminColumns = Pick<
  ServerRow,
  "admin_mode" | "admin_login" | "admin_secret" | "admin_separator" | "admin_token_url"
>;

function isMasterMode(mode: ServerRow["admin_mode"]): mode is AdminMode {
  return (ADMIN_MODES as readonly string[]).includes(mode ?? "");
}

/** Whether the server holds admin credentials (jobs on it may then leave out the mailbox password). */
export function hasAdminCredentials(row: Pick<ServerRow, "admin_mode">): boolean {
  return row.admin_mode !== null;
}

/**
 * The server's master-user credentials, decrypted, or null when it has none (or holds an OAuth2 service
 * account or app instead). Throws the vault's CONFIG error.
 */
export function adminCredentialsOf(vault: Vault, row: AdminColumns): ServerAdminCredentials | null {
  if (!isMasterMode(row.admin_mode) || !row.admin_login || !row.admin_secret) return null;
  return {
    mode: row.admin_mode,
    login: row.admin_login,
    separator: row.admin_separator ?? "*",
    password: vault.decrypt(row.admin_secret),
  };
}

/**
 * The server's OAuth2 service account or app as a grant, decrypted, or null when it holds none. Throws
 * the vault's CONFIG error.
 */
export function serverOAuth2GrantOf(vault: Vault, row: AdminColumns): OAuth2Grant | null {
  if (!row.admin_secret) return null;
  if (row.admin_mode === "google-service-account") {
    return {
      kind: "google-service-account",
      key: parseServiceAccountKey(vault.decrypt(row.admin_secret), ["admin", "serviceAccountKey"]),
      tokenUrl: row.admin_token_url ?? defaultTokenUrl("google"),
    };
  }
  if (row.admin_mode === "microsoft-app") {
    const app = JSON.parse(vault.decrypt(row.admin_secret)) as {
      tenantId: string;
      clientId: string;
      clientSecret: string;
    };
    return {
      kind: "microsoft-app",
      ...app,
      tokenUrl: row.admin_token_url ?? defaultTokenUrl("microsoft", app.tenantId),
    };
  }
  return null;
}

/** A job side's delegated grant (vault ciphertext of JSON, see jobs/oauth2-input.ts), decrypted. */
export function jobOAuth2GrantOf(vault: Vault, ciphertext: string): OAuth2Grant {
  const stored = JSON.parse(vault.decrypt(ciphertext)) as Omit<
    Extract<OAuth2Grant, { kind: "refresh-token" }>,
    "kind"
  >;
  return { kind: "refresh-token", ...stored };
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
 * How one side of a job logs in: with the job's own password or delegated OAuth2 grant when it has one
 * (it wins), else with the server's admin credentials: as the master user on behalf of the mailbox
 * login, or with an access token for the mailbox from the server's service account or app. Throws
 * MissingCredentialsError when there is nothing, and the vault's CONFIG error when a secret cannot be
 * decrypted.
 */
export function endpointCredentials(
  vault: Vault,
  side: "source" | "destination",
  server: Pick<ServerRow, "name"> & AdminColumns,
  login: string,
  secret: string | null,
  oauth2Secret: string | null = null,
): Pick<EndpointSpec, "user" | "password" | "admin" | "oauth2"> {
  if (secret !== null) return { user: login, password: vault.decrypt(secret) };
  if (oauth2Secret !== null)
    return { user: login, password: "", oauth2: jobOAuth2GrantOf(vault, oauth2Secret) };
  const grant = serverOAuth2GrantOf(vault, server);
  if (grant) return { user: login, password: "", oauth2: grant };
  const admin = adminCredentialsOf(vault, server);
  if (!admin) throw new MissingCredentialsError(side, server.name, login);
  const { password, ...adminLogin } = admin;
  return { user: login, password, admin: adminLogin };
}
