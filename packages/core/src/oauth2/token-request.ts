import { errorMessage, ImapferryError } from "../errors.ts";
import {
  GOOGLE_IMAP_SCOPE,
  MICROSOFT_APP_SCOPE,
  MICROSOFT_DELEGATED_SCOPE,
  type OAuth2Grant,
  type OAuth2Provider,
  providerOf,
} from "./grants.ts";
import { signRs256Jwt } from "./jwt.ts";

export interface AccessToken {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  /**
   * A new refresh token, when the provider rotated it (Microsoft does): the grant must use it from now
   * on. Absent when the provider keeps the old one (Google).
   */
  refreshToken?: string;
}

/** Most providers say expires_in; when one does not, a token is taken to live this long. */
const ASSUMED_LIFETIME_S = 3600;
/** How long one token request may take before it counts as the endpoint being unreachable. */
const REQUEST_TIMEOUT_MS = 30_000;

const PROVIDER_NAMES: Record<OAuth2Provider, string> = { google: "Google", microsoft: "Microsoft" };

/** What each provider's error code most likely means, as a question the operator can act on. */
const HINTS: Record<string, string> = {
  "google-service-account:unauthorized_client":
    "is domain-wide delegation granted to this service account for the scope https://mail.google.com/?",
  "google-service-account:invalid_grant":
    "is the mailbox a user of the Workspace domain, the key still active, and this machine's clock right?",
  "google-service-account:invalid_client": "was the service account or its key deleted?",
  "microsoft-app:invalid_client": "is the client secret right and not expired?",
  "microsoft-app:unauthorized_client": "is the client id right, and the app registered in this tenant?",
  "microsoft-app:invalid_request": "is the tenant id right?",
  "refresh-token:invalid_grant":
    "the mailbox's authorization has expired or was revoked: connect the mailbox again.",
  "refresh-token:invalid_client": "is the client id (and secret) the one the refresh token was issued to?",
};

function describeGrant(grant: OAuth2Grant): string {
  if (grant.kind === "google-service-account") return "the service account";
  if (grant.kind === "microsoft-app") return "the app";
  return "the refresh token";
}

/**
 * A token endpoint refused, or could not be reached. `code` is the provider's error code
 * ("unauthorized_client") or, when there was no OAuth2 answer, "unreachable" / "http-<status>". The
 * sentence names the provider, the mailbox and the code; never a secret or a token.
 */
export class TokenEndpointError extends ImapferryError {
  readonly provider: OAuth2Provider;
  readonly oauthCode: string;
  /** Worth retrying later (no answer, or the provider's own failure), as opposed to a refusal. */
  readonly passing: boolean;

  constructor(grant: OAuth2Grant, login: string, oauthCode: string, passing: boolean) {
    const provider = providerOf(grant);
    const hint = HINTS[`${grant.kind}:${oauthCode}`];
    const sentence = passing
      ? `${PROVIDER_NAMES[provider]}'s token endpoint did not answer for ${login} (${oauthCode}); imapferry tries again later.`
      : `${PROVIDER_NAMES[provider]} refused ${describeGrant(grant)} for ${login}: ${oauthCode}${hint ? ` — ${hint}` : "."}`;
    super(passing ? "UNAVAILABLE" : "BAD_INPUT", sentence);
    this.name = "TokenEndpointError";
    this.provider = provider;
    this.oauthCode = oauthCode;
    this.passing = passing;
  }
}

function requestBody(grant: OAuth2Grant, login: string, now: number): URLSearchParams {
  switch (grant.kind) {
    case "google-service-account": {
      const iat = Math.floor(now / 1000);
      const assertion = signRs256Jwt(
        {
          iss: grant.key.clientEmail,
          sub: login,
          scope: GOOGLE_IMAP_SCOPE,
          aud: grant.tokenUrl,
          iat,
          exp: iat + 3600,
        },
        grant.key.privateKey,
        grant.key.privateKeyId,
      );
      return new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion });
    }
    case "microsoft-app":
      return new URLSearchParams({
        grant_type: "client_credentials",
        client_id: grant.clientId,
        client_secret: grant.clientSecret,
        scope: MICROSOFT_APP_SCOPE,
      });
    case "refresh-token":
      return new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: grant.refreshToken,
        client_id: grant.clientId,
        ...(grant.clientSecret ? { client_secret: grant.clientSecret } : {}),
        ...(grant.provider === "microsoft" ? { scope: MICROSOFT_DELEGATED_SCOPE } : {}),
      });
  }
}

/** The OAuth2 error code of an answer (RFC 6749 §5.2), or null when it is not one. */
function oauthErrorCode(body: unknown): string | null {
  const code = (body as { error?: unknown } | null)?.error;
  return typeof code === "string" && /^[\x20-\x7e]{1,64}$/.test(code) ? code : null;
}

/**
 * One access token for `login` from the grant's token endpoint (global fetch, form-encoded POST).
 * Throws TokenEndpointError: a refusal (4xx with an OAuth2 error code) is not passing; no answer, a 5xx
 * or a reply that is not OAuth2 is.
 */
export async function requestAccessToken(
  grant: OAuth2Grant,
  login: string,
  options: { signal?: AbortSignal } = {},
): Promise<AccessToken> {
  const now = Date.now();
  let body: URLSearchParams;
  try {
    body = requestBody(grant, login, now);
  } catch {
    // Only signing can throw here: the stored key no longer loads.
    throw new TokenEndpointError(grant, login, "unusable_private_key", false);
  }
  const signals = [AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...(options.signal ? [options.signal] : [])];
  let response: Response;
  try {
    response = await fetch(grant.tokenUrl, {
      method: "POST",
      headers: { accept: "application/json" },
      body,
      signal: AbortSignal.any(signals),
      redirect: "error",
    });
  } catch (e: unknown) {
    if (options.signal?.aborted) throw e;
    throw new TokenEndpointError(grant, login, `unreachable: ${errorMessage(e).slice(0, 80)}`, true);
  }
  const answer: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const code = oauthErrorCode(answer);
    const passing = code === null || response.status >= 500 || code === "temporarily_unavailable";
    throw new TokenEndpointError(grant, login, code ?? `http-${response.status}`, passing);
  }
  const token = (answer as { access_token?: unknown } | null)?.access_token;
  const expiresIn = Number((answer as { expires_in?: unknown } | null)?.expires_in);
  if (typeof token !== "string" || !/^[\x20-\x7e]+$/.test(token)) {
    throw new TokenEndpointError(grant, login, "no_access_token", true);
  }
  const lifetime = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : ASSUMED_LIFETIME_S;
  const rotated = (answer as { refresh_token?: unknown } | null)?.refresh_token;
  return {
    token,
    expiresAt: now + lifetime * 1000,
    ...(grant.kind === "refresh-token" && typeof rotated === "string" && rotated !== grant.refreshToken
      ? { refreshToken: rotated }
      : {}),
  };
}
