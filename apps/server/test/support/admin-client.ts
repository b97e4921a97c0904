import type { CreateApiTokenInput, ServiceContext } from "@imapferry/core";
import { createApiToken } from "@imapferry/core";
import type { FetchLike, ImapferryClient } from "@imapferry/sdk";
import { createClient } from "@imapferry/sdk";
import type { ImapPair } from "@imapferry/testkit";
import type { ResponseRecorder } from "../api-harness.ts";
import { cookieSessionFetch } from "../api-harness.ts";

/** What these helpers need of a running API: the in-process test server and the panel stack both have it. */
export interface RunningApi {
  url: string;
  ctx: ServiceContext;
}

/** The id of the admin a fresh database gets on first start (the only user until a test adds one). */
export async function firstAdminId(api: RunningApi): Promise<number> {
  return (await api.ctx.db.selectFrom("users").select("id").executeTakeFirstOrThrow()).id;
}

/**
 * A new API token of the first admin and an SDK client signed in with it, as a hosting panel holds
 * one. The token's role and tenant are createApiToken's defaults unless given.
 */
export async function adminTokenClient(
  api: RunningApi,
  token: CreateApiTokenInput,
  options: { fetch?: FetchLike } = {},
): Promise<{ client: ImapferryClient; token: string; adminId: number }> {
  const adminId = await firstAdminId(api);
  const created = await createApiToken(api.ctx, adminId, token);
  const client = createClient({
    url: api.url,
    token: created.token,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return { client, token: created.token, adminId };
}

/**
 * An SDK client signed in as the first admin with the generated password, keeping the session cookie
 * as the panel does; every response passes through `recorder`, to search for secrets afterwards.
 */
export async function adminSessionClient(
  api: RunningApi & { adminPassword: string },
  recorder: ResponseRecorder,
): Promise<ImapferryClient> {
  const client = createClient({ url: api.url, fetch: cookieSessionFetch(recorder) });
  await client.auth.login.mutate({ username: "admin", password: api.adminPassword });
  return client;
}

/**
 * Adds the Dovecot pair as two servers, plain IMAP on loopback (the test Dovecots' own address), and
 * returns their ids.
 */
export async function addImapPairServers(
  client: ImapferryClient,
  imap: ImapPair,
  names: { source: string; destination: string } = { source: "old", destination: "new" },
): Promise<{ sourceId: number; destId: number }> {
  const add = async (name: string, port: number) =>
    (await client.servers.create.mutate({ name, host: "127.0.0.1", port, security: "none" })).id;
  const sourceId = await add(names.source, imap.source.port);
  const destId = await add(names.destination, imap.destination.port);
  return { sourceId, destId };
}
