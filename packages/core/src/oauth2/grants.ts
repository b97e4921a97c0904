/** The providers imapferry gets IMAP access tokens from; they name the sentences of failures. */
export type OAuth2Provider = "google" | "microsoft";

/** A Google service account key, as far as signing a JWT needs it. */
export interface ServiceAccountKey {
  clientEmail: string;
  /** PKCS#8 PEM. */
  privateKey: string;
  privateKeyId?: string;
}

/**
 * How an access token for one mailbox is had. Decrypted, in the worker only: none of it may reach argv,
 * a log line, an API answer or an error sentence.
 */
export type OAuth2Grant =
  /** Domain-wide delegation: a JWT signed by the service account, `sub` = the mailbox. */
  | { kind: "google-service-account"; key: ServiceAccountKey; tokenUrl: string }
  /** Microsoft 365 client credentials (IMAP.AccessAsApp): one app token opens every mailbox. */
  | { kind: "microsoft-app"; tenantId: string; clientId: string; clientSecret: string; tokenUrl: string }
  /** Delegated: the mailbox owner's refresh token, for the client it was issued to. */
  | {
      kind: "refresh-token";
      provider: OAuth2Provider;
      refreshToken: string;
      clientId: string;
      clientSecret?: string;
      tokenUrl: string;
    };

export const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";
/** Gmail's IMAP scope (full mail access, the only one IMAP accepts). */
export const GOOGLE_IMAP_SCOPE = "https://mail.google.com/";
/** Microsoft's app-only IMAP scope: the resource's .default (IMAP.AccessAsApp granted to the app). */
export const MICROSOFT_APP_SCOPE = "https://outlook.office365.com/.default";
/** Delegated IMAP access, for refresh tokens issued to a Microsoft public or confidential client. */
export const MICROSOFT_DELEGATED_SCOPE = "https://outlook.office365.com/IMAP.AccessAsUser.All offline_access";

/** Microsoft's token endpoint for a tenant (a GUID or a domain); "common" for delegated tokens of any tenant. */
export function microsoftTokenUrl(tenant: string): string {
  return `https://login.microsoftonline.com/${encodeURIComponent(tenant)}/oauth2/v2.0/token`;
}

/** The provider's public token endpoint, where the operator set none. */
export function defaultTokenUrl(provider: OAuth2Provider, tenant = "common"): string {
  return provider === "google" ? GOOGLE_TOKEN_URL : microsoftTokenUrl(tenant);
}

export function providerOf(grant: OAuth2Grant): OAuth2Provider {
  if (grant.kind === "google-service-account") return "google";
  if (grant.kind === "microsoft-app") return "microsoft";
  return grant.provider;
}
