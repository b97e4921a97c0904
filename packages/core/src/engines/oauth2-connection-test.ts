import type { OAuth2Grant } from "../oauth2/grants.ts";
import { startAccessTokenKeeper } from "../oauth2/token-keeper.ts";
import { TokenEndpointError } from "../oauth2/token-request.ts";
import {
  type ConnectionTestResult,
  type ImapServerEndpoint,
  type TestConnectionOptions,
  testConnection,
} from "./connection-test.ts";

/**
 * The Test button for a mailbox login on a server with a service account or an app (or a delegated
 * grant): one access token from the token endpoint, then an XOAUTH2 login with it, as the mailbox's jobs
 * would log in. A refusal at the token endpoint is its own category ("oauth2") with the provider's
 * sentence. The token lives in a private file for the length of the test, never in the answer.
 */
export async function testConnectionWithOAuth2(
  server: ImapServerEndpoint,
  login: string,
  grant: OAuth2Grant,
  options: TestConnectionOptions = {},
): Promise<ConnectionTestResult> {
  if (await options.denyHosts?.deniesHost(server.host)) return testConnection(server, undefined, options);
  let keeper: Awaited<ReturnType<typeof startAccessTokenKeeper>>;
  try {
    keeper = await startAccessTokenKeeper({ sides: { source: { grant, login } } });
  } catch (e: unknown) {
    if (e instanceof TokenEndpointError) return { ok: false, category: "oauth2", sentence: e.message };
    throw e;
  }
  try {
    return await testConnection(
      server,
      { user: login, password: "", accessTokenFile: keeper.files.source },
      options,
    );
  } finally {
    await keeper.close();
  }
}
