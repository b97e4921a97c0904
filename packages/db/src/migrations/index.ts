import type { Migration } from "kysely/migration";
import * as m0001 from "./0001-initial.ts";
import * as m0004 from "./0004-notifications.ts";
import * as m0005 from "./0005-token-expiry.ts";
import * as m0006 from "./0006-incomplete-outcome.ts";
import * as m0007 from "./0007-worker-process-identity.ts";
import * as m0008 from "./0008-waiting-retries.ts";
import * as m0009 from "./0009-server-admin-credentials.ts";
import * as m0010 from "./0010-superseded-runs.ts";
import * as m0011 from "./0011-oauth2-credentials.ts";
import * as m0012 from "./0012-sync-state.ts";
import * as m0013 from "./0013-token-scope.ts";
import * as m0014 from "./0014-audit-log.ts";
import * as m0015 from "./0015-batch-plans.ts";
import * as m0016 from "./0016-option-origins.ts";
import * as m0017 from "./0017-webhooks.ts";
import * as m0018 from "./0018-credential-requests.ts";
import * as m0019 from "./0019-server-budgets.ts";
import * as m0020 from "./0020-oauth2-connect.ts";

/**
 * Every migration, in order. Listed statically (not read from a folder) so the same code runs from
 * source in tests and from dist in production. Forward-only: a released migration is never edited.
 */
export const migrations: Record<string, Migration> = {
  "0001-initial": m0001,
  "0004-notifications": m0004,
  "0005-token-expiry": m0005,
  "0006-incomplete-outcome": m0006,
  "0007-worker-process-identity": m0007,
  "0008-waiting-retries": m0008,
  "0009-server-admin-credentials": m0009,
  "0010-superseded-runs": m0010,
  "0011-oauth2-credentials": m0011,
  "0012-sync-state": m0012,
  "0013-token-scope": m0013,
  "0014-audit-log": m0014,
  "0015-batch-plans": m0015,
  "0016-option-origins": m0016,
  "0017-webhooks": m0017,
  "0018-credential-requests": m0018,
  "0019-server-budgets": m0019,
  "0020-oauth2-connect": m0020,
};
