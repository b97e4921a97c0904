import { GOOGLE_IMAP_SCOPE, MICROSOFT_DELEGATED_SCOPE, type OAuth2Provider } from "../../oauth2/grants.ts";

const AUTHORIZE_URLS: Record<OAuth2Provider, string> = {
  google: "https://accounts.google.com/o/oauth2/v2/auth",
  // "common": work and school accounts of any tenant, as the delegated token endpoint's default.
  microsoft: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
};

/** The provider's public authorization endpoint, where the server sets none. */
export function defaultAuthorizeUrl(provider: OAuth2Provider): string {
  return AUTHORIZE_URLS[provider];
}

/**
 * IMAP access that outlives the sign-in (a refresh token), plus `openid email` so the answer names the
 * account the owner chose: a job then cannot quietly log in to another mailbox than its login says.
 */
export function connectScope(provider: OAuth2Provider): string {
  return provider === "google"
    ? `${GOOGLE_IMAP_SCOPE} openid email`
    : `${MICROSOFT_DELEGATED_SCOPE} openid email`;
}

/**
 * Google hands out a refresh token only with access_type=offline, and again for an account that
 * connected before only with prompt=consent; Microsoft gives one for offline_access (in the scope).
 */
export function providerAuthorizeParams(provider: OAuth2Provider): Record<string, string> {
  return provider === "google" ? { access_type: "offline", prompt: "consent" } : { prompt: "select_account" };
}
