import type { AdminMode, ServerSecurity } from "@imapferry/db";
import type { OAuth2Grant } from "../oauth2/grants.ts";

/** A server's admin (master user / proxy auth) login, without its password. */
export interface AdminLogin {
  mode: AdminMode;
  login: string;
  /** Between the mailbox login and the admin login in `login-separator` mode. @defaultValue "*" */
  separator: string;
}

/** One side of a migration as the engine sees it. The password only ever travels in the environment. */
export interface EndpointSpec {
  host: string;
  port: number;
  security: ServerSecurity;
  acceptSelfSigned: boolean;
  /** The mailbox login. */
  user: string;
  /** The mailbox's password, or with `admin` the admin's; unused with `oauth2`. */
  password: string;
  /** Log in as this admin on behalf of `user` (see engines/admin-login.ts); `password` is then the admin's. */
  admin?: AdminLogin;
  /**
   * Log in with XOAUTH2 as `user`, with access tokens from this grant (the server's service account or
   * app, or the job's refresh token). The worker keeps them fresh in `accessTokenFile`.
   */
  oauth2?: OAuth2Grant;
  /** A file whose first line is a live access token for `user` (private to this run, see oauth2/token-keeper.ts). */
  accessTokenFile?: string;
}

/** Everything an engine run needs. Built by the job system from a job row and its servers. */
export interface MigrationSpec {
  source: EndpointSpec;
  destination: EndpointSpec;
  dryRun: boolean;
  justLogin?: boolean;
  /** Operator-visible options, validated against the allow-list (see engines/options.ts). */
  options: Record<string, unknown>;
  /**
   * Most IMAP connections per account (the setting, lowered by the servers' caps): the built-in
   * engine's `--connections`, and the check after a run's connection pairs (imapsync holds one per
   * side anyway). @defaultValue the engine's own (4)
   */
  maxConnections?: number;
  /**
   * Automatic retries the engine may still spend inside the run, on waiting out a throttling server
   * and on reconnecting: the built-in engine's `--retries`; for imapsync, a cap on its reconnections
   * per command (`--reconnectretry1/2`). @defaultValue the engine's own
   */
  retriesLeft?: number;
}

export type EngineKind = "imapsync" | "builtin";
