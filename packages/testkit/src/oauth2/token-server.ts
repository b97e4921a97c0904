import {
  createHash,
  createPublicKey,
  createVerify,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/*
 * A small OAuth2 authorization server for tests, speaking the parts of Google's and Microsoft's token
 * endpoints that imapferry uses, and RFC 7662 introspection for Dovecot's oauth2 passdb. Tokens are
 * random strings that live `tokenLifetimeSeconds`; an expired token introspects as inactive, so a
 * login with a stale token fails at Dovecot exactly as it would at a provider.
 */

export type OAuth2Grant = "jwt-bearer" | "client-credentials" | "refresh-token" | "authorization-code";

/** A Google service account's JSON key, as the Cloud console downloads it. */
export interface ServiceAccountKeyJson {
  type: "service_account";
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  token_uri: string;
}

export interface IssuedToken {
  grant: OAuth2Grant;
  /** The mailbox the token was issued for (for an app token: the one mailbox the test app serves). */
  login: string;
  token: string;
  expiresAt: number;
  /** For a rotating refresh token: the new refresh token handed out with this access token. */
  refreshToken?: string;
}

export interface TokenServerEvents {
  issued: [IssuedToken];
  /** Every introspection Dovecot made: whether the token was live then. */
  introspected: [{ login: string | null; active: boolean }];
}

export interface OAuth2TokenServer {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** Google-style endpoint (JWT bearer and refresh-token grants). */
  readonly tokenUrl: string;
  /** Dovecot's introspection_url (POST token=…). */
  readonly introspectionUrl: string;
  /** How long each new access token lives. @defaultValue 3600 */
  tokenLifetimeSeconds: number;
  /** Microsoft-style endpoint for a tenant: `<url>/<tenant>/oauth2/v2.0/token`. */
  microsoftTokenUrl(tenantId: string): string;
  /**
   * A service account with a fresh RSA key pair; the server verifies JWTs against its public key.
   * `delegated: false` answers as Google does before domain-wide delegation is granted.
   */
  addServiceAccount(options?: { delegated?: boolean }): ServiceAccountKeyJson;
  /**
   * A Microsoft 365 app registration in a tenant (client credentials grant). Its tokens introspect as
   * `mailbox`: Dovecot's oauth2 passdb needs the introspection to name the user, while Microsoft
   * accepts an app token for any mailbox the app may open, so a test app serves one mailbox.
   */
  addApp(app: { tenantId: string; clientId: string; clientSecret: string; mailbox: string }): void;
  /**
   * A refresh token for one mailbox, issued to a client. `rotate`: every refresh answers with a new
   * refresh token and revokes the one used, as Microsoft may.
   */
  addRefreshToken(
    login: string,
    client: { clientId: string; clientSecret?: string },
    options?: { rotate?: boolean },
  ): string;
  /**
   * Where a browser signs in (authorization code flow with PKCE, S256 only): a consent page with the
   * account's login and Allow / Deny, then a redirect to the client's redirect URI.
   */
  readonly authorizeUrl: string;
  /**
   * An OAuth client for the authorization code flow. The code is exchanged once, by this client, with
   * the same redirect URI and the PKCE verifier of the challenge; the answer carries a refresh token
   * and an id token naming the login as `email`.
   */
  addClient(client: { clientId: string; clientSecret?: string; redirectUri: string }): void;
  /** Revokes a refresh token: the next refresh answers invalid_grant. */
  revokeRefreshToken(refreshToken: string): void;
  readonly issued: readonly IssuedToken[];
  readonly events: EventEmitter<TokenServerEvents>;
  stop(): Promise<void>;
}

interface ServiceAccount {
  publicKey: KeyObject;
  delegated: boolean;
}

function base64UrlJson(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function answer(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

/** Starts the token server on a free loopback port. */
export async function startOAuth2TokenServer(): Promise<OAuth2TokenServer> {
  const serviceAccounts = new Map<string, ServiceAccount>();
  const apps = new Map<string, { tenantId: string; clientSecret: string; mailbox: string }>();
  const refreshTokens = new Map<
    string,
    { login: string; clientId: string; clientSecret?: string; rotate?: boolean }
  >();
  const clients = new Map<string, { clientSecret?: string; redirectUri: string }>();
  const codes = new Map<
    string,
    { clientId: string; redirectUri: string; challenge: string; login: string; used: boolean }
  >();
  const live = new Map<string, IssuedToken>();
  const issued: IssuedToken[] = [];
  const events = new EventEmitter<TokenServerEvents>();

  function issue(
    res: ServerResponse,
    grant: OAuth2Grant,
    login: string,
    refreshToken?: string,
    extra: Record<string, unknown> = {},
  ): void {
    const token = `at-${randomBytes(24).toString("base64url")}`;
    const lifetime = self.tokenLifetimeSeconds;
    const entry: IssuedToken = {
      grant,
      login,
      token,
      expiresAt: Date.now() + lifetime * 1000,
      ...(refreshToken ? { refreshToken } : {}),
    };
    live.set(token, entry);
    issued.push(entry);
    events.emit("issued", entry);
    answer(res, 200, {
      access_token: token,
      token_type: "Bearer",
      expires_in: lifetime,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      ...extra,
    });
  }

  /** An id token as a provider's: only its claims matter to a client that got it from the endpoint. */
  function idToken(login: string): string {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    return `${part({ alg: "RS256", typ: "JWT" })}.${part({ iss: url, sub: login, email: login })}.c2ln`;
  }

  function authorizationCode(res: ServerResponse, form: URLSearchParams): void {
    const entry = codes.get(form.get("code") ?? "");
    const client = clients.get(form.get("client_id") ?? "");
    if (!client || (client.clientSecret !== undefined && client.clientSecret !== form.get("client_secret"))) {
      answer(res, 401, { error: "invalid_client", error_description: "Unauthorized" });
      return;
    }
    const verifier = form.get("code_verifier") ?? "";
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    if (
      !entry ||
      entry.used ||
      entry.clientId !== form.get("client_id") ||
      entry.redirectUri !== form.get("redirect_uri") ||
      entry.challenge !== challenge
    ) {
      answer(res, 400, {
        error: "invalid_grant",
        error_description: "Malformed auth code or PKCE verifier.",
      });
      return;
    }
    entry.used = true;
    const refreshToken = self.addRefreshToken(entry.login, {
      clientId: entry.clientId,
      ...(client.clientSecret !== undefined ? { clientSecret: client.clientSecret } : {}),
    });
    issue(res, "authorization-code", entry.login, refreshToken, { id_token: idToken(entry.login) });
  }

  function escapeHtml(text: string): string {
    return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }

  /** GET: the consent page; POST: the owner's answer, sent back to the client's redirect URI. */
  async function authorize(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const query = new URL(req.url ?? "/", "http://x").searchParams;
    const params = req.method === "POST" ? await readForm(req) : query;
    const client = clients.get(params.get("client_id") ?? "");
    const redirectUri = params.get("redirect_uri") ?? "";
    if (!client || client.redirectUri !== redirectUri) {
      res.writeHead(400, { "content-type": "text/html" });
      res.end("<h1>Error 400: redirect_uri_mismatch</h1>");
      return;
    }
    const back = new URL(redirectUri);
    back.searchParams.set("state", params.get("state") ?? "");
    const challenge = params.get("code_challenge") ?? "";
    if (
      params.get("response_type") !== "code" ||
      params.get("code_challenge_method") !== "S256" ||
      !challenge
    ) {
      back.searchParams.set("error", "invalid_request");
      res.writeHead(302, { location: back.toString() });
      res.end();
      return;
    }
    if (req.method !== "POST") {
      const hidden = [...params]
        .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
        .join("");
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><title>Sign in</title><form method="post">${hidden}
<label>Account <input name="login" value="${escapeHtml(params.get("login_hint") ?? "")}"></label>
<button name="decision" value="allow">Allow</button> <button name="decision" value="deny">Deny</button></form>`);
      return;
    }
    if (params.get("decision") !== "allow") {
      back.searchParams.set("error", "access_denied");
    } else {
      const code = `code-${randomBytes(18).toString("base64url")}`;
      codes.set(code, {
        clientId: params.get("client_id") ?? "",
        redirectUri,
        challenge,
        login: params.get("login") ?? "",
        used: false,
      });
      back.searchParams.set("code", code);
    }
    res.writeHead(302, { location: back.toString() });
    res.end();
  }

  function jwtBearer(res: ServerResponse, form: URLSearchParams, audience: string): void {
    const parts = (form.get("assertion") ?? "").split(".");
    const header = parts[0] ? base64UrlJson(parts[0]) : null;
    const claims = parts[1] ? base64UrlJson(parts[1]) : null;
    if (parts.length !== 3 || !header || !claims || header.alg !== "RS256") {
      answer(res, 400, { error: "invalid_grant", error_description: "Invalid JWT: malformed." });
      return;
    }
    const account = typeof claims.iss === "string" ? serviceAccounts.get(claims.iss) : undefined;
    if (!account) {
      answer(res, 401, { error: "invalid_client", error_description: "The OAuth client was not found." });
      return;
    }
    const verifier = createVerify("RSA-SHA256");
    verifier.update(`${parts[0]}.${parts[1]}`);
    if (!verifier.verify(account.publicKey, Buffer.from(parts[2] ?? "", "base64url"))) {
      answer(res, 400, { error: "invalid_grant", error_description: "Invalid JWT Signature." });
      return;
    }
    const now = Date.now() / 1000;
    if (claims.aud !== audience || typeof claims.exp !== "number" || claims.exp < now) {
      answer(res, 400, {
        error: "invalid_grant",
        error_description: "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.",
      });
      return;
    }
    if (typeof claims.sub !== "string" || claims.scope !== "https://mail.google.com/" || !account.delegated) {
      answer(res, 401, {
        error: "unauthorized_client",
        error_description: "Client is unauthorized to retrieve access tokens using this method.",
      });
      return;
    }
    issue(res, "jwt-bearer", claims.sub);
  }

  function clientCredentials(res: ServerResponse, form: URLSearchParams, tenantId: string): void {
    const app = apps.get(form.get("client_id") ?? "");
    if (!app || app.tenantId !== tenantId) {
      answer(res, 400, {
        error: "unauthorized_client",
        error_description: `AADSTS700016: Application not found in the directory '${tenantId}'.`,
      });
      return;
    }
    if (app.clientSecret !== form.get("client_secret")) {
      answer(res, 401, {
        error: "invalid_client",
        error_description: "AADSTS7000215: Invalid client secret provided.",
      });
      return;
    }
    issue(res, "client-credentials", app.mailbox);
  }

  function refresh(res: ServerResponse, form: URLSearchParams): void {
    const entry = refreshTokens.get(form.get("refresh_token") ?? "");
    if (!entry || entry.clientId !== form.get("client_id")) {
      answer(res, 400, { error: "invalid_grant", error_description: "Token has been expired or revoked." });
      return;
    }
    if (entry.clientSecret !== undefined && entry.clientSecret !== form.get("client_secret")) {
      answer(res, 401, { error: "invalid_client", error_description: "Unauthorized" });
      return;
    }
    if (!entry.rotate) {
      issue(res, "refresh-token", entry.login);
      return;
    }
    const next = `rt-${randomBytes(24).toString("base64url")}`;
    refreshTokens.delete(form.get("refresh_token") ?? "");
    refreshTokens.set(next, entry);
    issue(res, "refresh-token", entry.login, next);
  }

  const server = createServer(async function handleOAuth2Request(req, res) {
    try {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (path === "/authorize" || /^\/[^/]+\/oauth2\/v2\.0\/authorize$/.test(path)) {
        await authorize(req, res);
        return;
      }
      if (req.method !== "POST") {
        answer(res, 405, { error: "invalid_request" });
        return;
      }
      const form = await readForm(req);
      if (path === "/introspect") {
        const entry = live.get(form.get("token") ?? "");
        const active = entry !== undefined && entry.expiresAt > Date.now();
        events.emit("introspected", { login: entry?.login ?? null, active });
        answer(
          res,
          200,
          active
            ? { active: true, username: entry.login, exp: Math.floor(entry.expiresAt / 1000) }
            : { active: false },
        );
        return;
      }
      const microsoft = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
      if (path !== "/token" && !microsoft) {
        answer(res, 404, { error: "invalid_request", error_description: "No such endpoint." });
        return;
      }
      const grant = form.get("grant_type");
      if (grant === "urn:ietf:params:oauth:grant-type:jwt-bearer" && !microsoft)
        jwtBearer(res, form, self.tokenUrl);
      else if (grant === "client_credentials" && microsoft) clientCredentials(res, form, microsoft[1] ?? "");
      else if (grant === "refresh_token") refresh(res, form);
      else if (grant === "authorization_code") authorizationCode(res, form);
      else answer(res, 400, { error: "unsupported_grant_type" });
    } catch (e: unknown) {
      answer(res, 500, { error: "server_error", error_description: String(e) });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const self: OAuth2TokenServer = {
    url,
    tokenUrl: `${url}/token`,
    introspectionUrl: `${url}/introspect`,
    authorizeUrl: `${url}/authorize`,
    tokenLifetimeSeconds: 3600,
    microsoftTokenUrl: (tenantId) => `${url}/${tenantId}/oauth2/v2.0/token`,
    addServiceAccount(options = {}) {
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const id = randomBytes(6).toString("hex");
      const clientEmail = `migrator-${id}@imapferry-test.iam.gserviceaccount.com`;
      serviceAccounts.set(clientEmail, {
        publicKey: createPublicKey(publicKey.export({ type: "spki", format: "pem" })),
        delegated: options.delegated ?? true,
      });
      return {
        type: "service_account",
        project_id: "imapferry-test",
        private_key_id: id,
        private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        client_email: clientEmail,
        client_id: String(BigInt(`0x${id}`)),
        token_uri: self.tokenUrl,
      };
    },
    addApp({ clientId, ...app }) {
      apps.set(clientId, app);
    },
    addRefreshToken(login, client, options = {}) {
      const token = `rt-${randomBytes(24).toString("base64url")}`;
      refreshTokens.set(token, { login, ...client, ...(options.rotate ? { rotate: true } : {}) });
      return token;
    },
    addClient({ clientId, ...client }) {
      clients.set(clientId, client);
    },
    revokeRefreshToken(token) {
      refreshTokens.delete(token);
    },
    issued,
    events,
    stop() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return self;
}
