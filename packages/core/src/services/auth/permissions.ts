import { ImapferryError } from "../../errors.ts";
import type { Principal } from "./sessions.ts";

/**
 * What a caller may do beyond using the API. Today there is one such power; roles, tenants and scoped
 * tokens add theirs here, so every check goes through `assertAllowed` and reads the same way.
 */
export type Permission =
  /** Create API tokens. A token that could mint tokens would outlive its own revocation. */
  "create-tokens";

/** Whether `principal` holds `permission`: people (sessions) hold all; API tokens none of these. */
export function isAllowed(principal: Principal, permission: Permission): boolean {
  switch (permission) {
    case "create-tokens":
      return principal.method === "session";
  }
}

const REFUSALS: Record<Permission, string> = {
  "create-tokens":
    "An API token cannot create API tokens. Create them in the panel (Tokens), logged in as a person.",
};

/** Throws FORBIDDEN, saying what to do instead, unless `principal` holds `permission`. */
export function assertAllowed(principal: Principal, permission: Permission): void {
  if (!isAllowed(principal, permission)) throw new ImapferryError("FORBIDDEN", REFUSALS[permission]);
}
