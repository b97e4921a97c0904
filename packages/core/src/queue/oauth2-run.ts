import type { MigrationSpec } from "../engines/types.ts";
import { errorMessage } from "../errors.ts";
import type { AccessTokenKeeper, TokenSide, TokenSideInput } from "../oauth2/token-keeper.ts";
import { startAccessTokenKeeper } from "../oauth2/token-keeper.ts";

export interface RunTokens {
  /** The spec with each OAuth2 side's token file set. */
  spec: MigrationSpec;
  close(): Promise<void>;
}

/**
 * Access tokens for a run's OAuth2 sides, in token files the worker renews before they expire (see
 * oauth2/token-keeper.ts), for the pre-flight, the engine and the check after it alike. The built-in
 * engine reads the file at each reconnect. imapsync 2.229 reads it at its first login only and resends
 * that token when it reconnects, so a long imapsync run whose token has expired fails its reconnect and
 * resumes as a new process with a fresh token (the run ends "waiting"; copied mail is skipped).
 * Throws TokenEndpointError when a first token cannot be had. Renewals go to the job log, never a token.
 */
export async function startRunTokens(
  spec: MigrationSpec,
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<RunTokens> {
  const sides: Partial<Record<TokenSide, TokenSideInput>> = {};
  if (spec.source.oauth2) sides.source = { grant: spec.source.oauth2, login: spec.source.user };
  if (spec.destination.oauth2)
    sides.destination = { grant: spec.destination.oauth2, login: spec.destination.user };
  if (!sides.source && !sides.destination) return { spec, close: async () => {} };
  const keeper: AccessTokenKeeper = await startAccessTokenKeeper({
    sides,
    signal,
    onRenewed(side, expiresAt) {
      log(
        `[imapferry] ${new Date().toISOString()} renewed the ${side} access token (valid until ${expiresAt.toISOString()})`,
      );
    },
    onRenewalFailed(side, e) {
      log(
        `[imapferry] ${new Date().toISOString()} could not renew the ${side} access token yet: ${errorMessage(e)}`,
      );
    },
  });
  const withFile = (endpoint: MigrationSpec["source"], file: string | undefined) =>
    file === undefined ? endpoint : { ...endpoint, accessTokenFile: file };
  return {
    spec: {
      ...spec,
      source: withFile(spec.source, keeper.files.source),
      destination: withFile(spec.destination, keeper.files.destination),
    },
    close: () => keeper.close(),
  };
}
