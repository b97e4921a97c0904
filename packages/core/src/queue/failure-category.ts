import type { ExitCategory } from "../engines/imapsync/exit-codes.ts";

/** How an engine run ended: imapsync's exit category (the built-in engine shares it), or no engine to start. */
export type EngineRunCategory =
  | ExitCategory
  | "engine-missing"
  /** imapsync had to log in again after its access token expired (it passes: the job resumes). */
  | "oauth2-token-expired";

/**
 * What a finished run records as the job's error category ("ok" for a clean run). Besides the engine's
 * own: "worker-key" when this worker cannot decrypt the job's passwords, "denied-host" when the source or
 * destination host is on IMAPFERRY_DENY_HOSTS (nothing was connected to), "engine" when the run failed
 * before the engine could report anything, "incomplete" when the engine exited cleanly but the check
 * after it found mail missing, "unverified" when that check could not run, "oauth2-token" when a token
 * endpoint refused a side's service account, app or refresh token.
 */
export type RunOutcomeCategory =
  | EngineRunCategory
  | "worker-key"
  | "denied-host"
  | "engine"
  | "incomplete"
  | "unverified"
  /** A token endpoint refused (or did not answer) the OAuth2 grant of a side: see oauth2/token-request.ts. */
  | "oauth2-token"
  /** An account reached its server's daily download or upload budget: the job waits for the window to reset. */
  | "daily-budget";
