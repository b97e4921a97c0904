import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { OAuth2Grant } from "./grants.ts";
import { type AccessToken, requestAccessToken } from "./token-request.ts";

export type TokenSide = "source" | "destination";

export interface TokenSideInput {
  grant: OAuth2Grant;
  /** The mailbox the token is for (the JWT's sub; XOAUTH2's user). */
  login: string;
}

export interface AccessTokenKeeperOptions {
  sides: Partial<Record<TokenSide, TokenSideInput>>;
  /** Each renewal, for the job log (never the token). */
  onRenewed?(side: TokenSide, expiresAt: Date): void;
  /**
   * The provider rotated a side's refresh token: `grant` holds the new one, which the keeper uses from
   * now on and the caller stores (the old one may stop working).
   */
  onRefreshTokenRotated?(side: TokenSide, grant: OAuth2Grant): void;
  /** A renewal that failed; it is retried until the current token runs out. */
  onRenewalFailed?(side: TokenSide, error: unknown): void;
  signal?: AbortSignal;
}

export interface AccessTokenKeeper {
  /** The token file of each side that logs in with OAuth2: the first line is a live access token. */
  readonly files: Partial<Record<TokenSide, string>>;
  /** Whether a token the run started with has expired by now (an engine holding it can no longer log in). */
  firstTokenExpired(now?: number): boolean;
  /** Stops renewing and deletes the files and their directory. */
  close(): Promise<void>;
}

/**
 * When to renew a token: with 5 minutes (or half the lifetime, for short-lived tokens) still to go, so an
 * engine reconnecting just then still finds a live token in the file.
 */
export function renewalDelayMs(token: AccessToken, now = Date.now()): number {
  const lifetime = Math.max(0, token.expiresAt - now);
  return Math.max(0, lifetime - Math.min(5 * 60_000, lifetime / 2));
}

/**
 * After a failed renewal: soon enough to beat the current token's expiry; once it has expired, every
 * 30 s (a provider that refuses is not hammered, and the job log gets a line a try, not a flood).
 */
function retryDelayMs(token: AccessToken, now = Date.now()): number {
  const remaining = token.expiresAt - now;
  return remaining <= 0 ? 30_000 : Math.min(30_000, Math.max(250, remaining / 4));
}

/** Replaces the file in one step (imapsync and the built-in engine must never read half a token). */
async function writeTokenFile(file: string, token: string): Promise<void> {
  const next = `${file}.next`;
  await writeFile(next, `${token}\n`, { mode: 0o600 });
  await rename(next, file);
}

/**
 * Access tokens for a run's OAuth2 sides, kept fresh in files for the engine. The files sit in a
 * private directory (mkdtemp: mode 0700) of this run, each 0600, and go when the run ends: tokens never
 * travel in argv (world-readable in /proc) or the environment (fixed for the process's life, so a
 * renewed token could not reach it). The built-in engine reads the file at every (re)connect; imapsync
 * 2.229 reads it once, at its first login per side (see engines/imapsync/args.ts).
 * Throws TokenEndpointError when a first token cannot be had; nothing is left on disk then.
 */
export async function startAccessTokenKeeper(options: AccessTokenKeeperOptions): Promise<AccessTokenKeeper> {
  // Own copies: a rotated refresh token replaces the grant here, not in the caller's objects.
  const entries = (Object.entries(options.sides) as [TokenSide, TokenSideInput][]).map(
    ([side, input]) => [side, { ...input }] as const,
  );
  if (entries.length === 0) return { files: {}, firstTokenExpired: () => false, close: async () => {} };
  const dir = await mkdtemp(path.join(tmpdir(), "imapferry-tokens-"));
  const timers = new Set<NodeJS.Timeout>();
  const renewals = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, renewals.signal]) : renewals.signal;
  let closed = false;
  const files: Partial<Record<TokenSide, string>> = {};
  let firstExpiry = Number.POSITIVE_INFINITY;

  function schedule(delayMs: number, task: () => Promise<void>): void {
    if (closed) return;
    const timer = setTimeout(function renewAccessToken() {
      timers.delete(timer);
      void task();
    }, delayMs);
    // A pending renewal must not keep a finished worker process alive.
    timer.unref();
    timers.add(timer);
  }

  function takeRotatedRefreshToken(side: TokenSide, input: TokenSideInput, token: AccessToken): void {
    if (token.refreshToken === undefined || input.grant.kind !== "refresh-token") return;
    input.grant = { ...input.grant, refreshToken: token.refreshToken };
    options.onRefreshTokenRotated?.(side, input.grant);
  }

  function keepFresh(side: TokenSide, input: TokenSideInput, file: string, current: AccessToken): void {
    schedule(renewalDelayMs(current), async function renew() {
      try {
        const next = await requestAccessToken(input.grant, input.login, { signal });
        if (closed) return;
        takeRotatedRefreshToken(side, input, next);
        await writeTokenFile(file, next.token);
        options.onRenewed?.(side, new Date(next.expiresAt));
        keepFresh(side, input, file, next);
      } catch (e: unknown) {
        if (closed) return;
        options.onRenewalFailed?.(side, e);
        schedule(retryDelayMs(current), renew);
      }
    });
  }

  try {
    const first = await Promise.all(
      entries.map(async ([side, input]) => {
        const token = await requestAccessToken(input.grant, input.login, { signal });
        takeRotatedRefreshToken(side, input, token);
        const file = path.join(dir, `${side}.token`);
        await writeTokenFile(file, token.token);
        files[side] = file;
        return { side, input, file, token };
      }),
    );
    for (const { side, input, file, token } of first) {
      firstExpiry = Math.min(firstExpiry, token.expiresAt);
      keepFresh(side, input, file, token);
    }
  } catch (e: unknown) {
    closed = true;
    await rm(dir, { recursive: true, force: true });
    throw e;
  }

  return {
    files,
    firstTokenExpired: (now = Date.now()) => now >= firstExpiry,
    async close() {
      closed = true;
      renewals.abort();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
