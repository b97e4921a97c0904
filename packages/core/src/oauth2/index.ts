export type { OAuth2Grant, OAuth2Provider, ServiceAccountKey } from "./grants.ts";
export { defaultTokenUrl, GOOGLE_TOKEN_URL, microsoftTokenUrl, providerOf } from "./grants.ts";
export { parseServiceAccountKey } from "./service-account-key.ts";
export type { AccessTokenKeeper, TokenSide } from "./token-keeper.ts";
export { startAccessTokenKeeper } from "./token-keeper.ts";
export type { AccessToken } from "./token-request.ts";
export { requestAccessToken, TokenEndpointError } from "./token-request.ts";
