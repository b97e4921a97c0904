import type { EngineKind, MigrationSpec } from "../engines/types.ts";
import { errorMessage } from "../errors.ts";
import type { OAuth2Grant } from "../oauth2/grants.ts";
import type { AccessTokenKeeper, TokenSide, TokenSideInput } from "../oauth2/token-keeper.ts";
import { startAccessTokenKeeper } from "../oauth2/token-keeper.ts";
import type { EngineRunResult } from "./engine-run.ts";

export interface RunTokens {
  /** The spec with each OAuth2 side's token file set. */
  spec: MigrationSpec;
  /** Whether a token the run started with has expired by now. */
  firstTokenExpired(): boolean;
  close(): Promise<void>;
}

/** What servers answer a login with a dead token: Dovecot, Gmail ("Invalid credentials"), Microsoft 365. */
const LOGIN_REFUSED = /AUTHENTICATIONFAILED|AUTHENTICATE failed|authentication failed|invalid credentials/i;

/**
 * imapsync 2.229 reads --oauthaccesstokenN's file once, at its first login, and logs in again with that
 * same token whenever it reconnects (Mail::IMAPClient keeps the login closure). So a connection dropped
 * after the token expired leaves imapsync logging in with a dead token and its remaining messages
 * failing. Such a run is not the mailbox's fault: it passes (the job waits and resumes at once as a new
 * imapsync with a fresh token, skipping what was copied) instead of ending incomplete.
 */
export function resumeAfterStaleToken(
  engine: EngineKind,
  result: EngineRunResult,
  tokens: RunTokens | null,
): EngineRunResult {
  if (
    engine !== "imapsync" ||
    !tokens?.firstTokenExpired() ||
    result.exitCode === 0 ||
    result.category === "cancelled"
  )
    return result;
  const errorLines = Array.isArray(result.stats?.errorLines) ? (result.stats.errorLines as unknown[]) : [];
  if (!errorLines.some((line) => typeof line === "string" && LOGIN_REFUSED.test(line))) return result;
  return {
    ...result,
    category: "oauth2-token-expired",
    sentence:
      "imapsync lost a connection after its access token had expired and could not log in again (imapsync reads the token only when it starts); the migration resumes with a fresh token.",
    passing: { waitMs: 0 },
  };
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
  /** A side's refresh token was rotated by the provider: store the new grant. */
  onRotated: (side: TokenSide, grant: OAuth2Grant) => Promise<void>,
): Promise<RunTokens> {
  const sides: Partial<Record<TokenSide, TokenSideInput>> = {};
  if (spec.source.oauth2) sides.source = { grant: spec.source.oauth2, login: spec.source.user };
  if (spec.destination.oauth2)
    sides.destination = { grant: spec.destination.oauth2, login: spec.destination.user };
  if (!sides.source && !sides.destination)
    return { spec, firstTokenExpired: () => false, close: async () => {} };
  const keeper: AccessTokenKeeper = await startAccessTokenKeeper({
    sides,
    signal,
    onRenewed(side, expiresAt) {
      log(
        `[imapferry] ${new Date().toISOString()} renewed the ${side} access token (valid until ${expiresAt.toISOString()})`,
      );
    },
    onRefreshTokenRotated(side, grant) {
      onRotated(side, grant).catch((e: unknown) => {
        log(
          `[imapferry] ${new Date().toISOString()} could not store the ${side} mailbox's new refresh token: ${errorMessage(e)}`,
        );
      });
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
    firstTokenExpired: () => keeper.firstTokenExpired(),
    close: () => keeper.close(),
  };
}
