import type { ApiTokenRole } from "@imapferry/db";
import { ImapferryError } from "../../errors.ts";
import type { Principal } from "./sessions.ts";

/**
 * What a caller may do beyond reading its jobs and batches. Every check goes through `assertAllowed`
 * and reads the same way. What a caller *sees* (its tenant's rows only) is tenant-scope.ts's part.
 */
export type Permission =
  /** Any mutation: create, cancel, rerun, edit, delete and import jobs and batches; test servers. */
  | "make-changes"
  /** Create API tokens (no wider than the caller's own: assertNotWider). */
  | "create-tokens"
  /** Revoke API tokens. */
  | "manage-tokens"
  /** Create, change and delete servers, and see which admin login a server uses. */
  | "change-servers"
  /** See the settings and the workers: the whole installation, every tenant's routing included. */
  | "see-installation"
  /** Change the settings. */
  | "change-installation"
  /** Read the audit log: every user's and tenant's changes. */
  | "read-audit"
  /** See and change webhook endpoints and their delivery logs (a tenant's token: its tenant's). */
  | "manage-webhooks";

const RANK: Record<ApiTokenRole, number> = { read: 0, operate: 1, admin: 2 };

/** Whether `principal` holds `permission`. People (sessions) hold all of them. */
export function isAllowed(principal: Principal, permission: Permission): boolean {
  if (principal.method === "session") return true;
  switch (permission) {
    case "make-changes":
      return RANK[principal.role] >= RANK.operate;
    case "create-tokens":
    case "manage-tokens":
    case "manage-webhooks":
      return principal.role === "admin";
    case "see-installation":
      return principal.tenant === null;
    case "change-servers":
    case "change-installation":
    case "read-audit":
      // A tenant's token shares servers with other tenants: changing them would change their migrations.
      return principal.role === "admin" && principal.tenant === null;
  }
}

const REFUSALS: Record<Permission, string> = {
  "make-changes": "This API token is read-only: it can look, but not change anything.",
  "create-tokens":
    "Only an admin token can create API tokens. Create them in the panel (Tokens), logged in as a person, or with an admin token.",
  "manage-tokens": "Only an admin token can revoke API tokens. Revoke them in the panel (Tokens).",
  "change-servers":
    "Only an admin token that is not bound to a tenant can change servers or see their admin credentials.",
  "see-installation": "A token bound to a tenant cannot see the settings or the workers.",
  "change-installation": "Only an admin token that is not bound to a tenant can change settings.",
  "manage-webhooks":
    "Only an admin (a person, or an admin token) can see or change webhook endpoints and their deliveries.",
  "read-audit": "Only an admin (a person, or an admin token not bound to a tenant) can read the audit log.",
};

/** Throws FORBIDDEN, saying what to do instead, unless `principal` holds `permission`. */
export function assertAllowed(principal: Principal, permission: Permission): void {
  if (!isAllowed(principal, permission)) throw new ImapferryError("FORBIDDEN", REFUSALS[permission]);
}

/** What a new token would be allowed. */
export interface TokenScope {
  role: ApiTokenRole;
  tenant: string | null;
  expiresAt: Date | null;
}

/**
 * Throws FORBIDDEN when a token with `wanted` could do more than `creator`: a higher role, another (or
 * every) tenant, or a life beyond the creator's. Otherwise revoking a token would leave wider ones it
 * made working. A person (session) may create any token.
 */
export function assertNotWider(creator: Principal, wanted: TokenScope): void {
  if (creator.method === "session") return;
  if (RANK[wanted.role] > RANK[creator.role]) {
    throw new ImapferryError(
      "FORBIDDEN",
      `A ${creator.role} token cannot create a ${wanted.role} token: a token cannot create one wider than itself.`,
    );
  }
  if (creator.tenant !== null && wanted.tenant !== creator.tenant) {
    throw new ImapferryError(
      "FORBIDDEN",
      `This token is bound to tenant "${creator.tenant}": the tokens it creates are bound to it too.`,
    );
  }
  if (
    creator.expiresAt !== null &&
    (wanted.expiresAt === null || wanted.expiresAt.getTime() > creator.expiresAt.getTime())
  ) {
    throw new ImapferryError(
      "FORBIDDEN",
      `This token expires on ${creator.expiresAt.toISOString()}: the tokens it creates cannot outlive it.`,
    );
  }
}
