import type { z } from "zod";
import type { ServiceContext, Vault } from "../../context.ts";
import { ImapferryError } from "../../errors.ts";
import { defaultTokenUrl, type OAuth2Grant } from "../../oauth2/grants.ts";
import { requestAccessToken, TokenEndpointError } from "../../oauth2/token-request.ts";
import type { delegatedOAuth2InputSchema } from "./schemas.ts";

export type DelegatedOAuth2Input = z.output<typeof delegatedOAuth2InputSchema>;

/** The grant a side's input stands for, with the provider's endpoint where none was given. */
export function delegatedGrant(input: DelegatedOAuth2Input): Extract<OAuth2Grant, { kind: "refresh-token" }> {
  return {
    kind: "refresh-token",
    provider: input.provider,
    refreshToken: input.refreshToken,
    clientId: input.clientId,
    ...(input.clientSecret ? { clientSecret: input.clientSecret } : {}),
    tokenUrl: input.tokenUrl ?? defaultTokenUrl(input.provider),
  };
}

/** Vault ciphertext of the grant, for jobs.source_oauth2 / dest_oauth2 (read by jobOAuth2GrantOf). */
export function encryptDelegatedGrant(
  vault: Vault,
  grant: Extract<OAuth2Grant, { kind: "refresh-token" }>,
): string {
  const { kind: _kind, ...stored } = grant;
  return vault.encrypt(JSON.stringify(stored));
}

/**
 * Tries the refresh token once before it is stored, so an expired or revoked one is refused with the
 * provider's error code at once, naming the field, instead of failing the migration later. Returns the
 * grant to store: with the provider's new refresh token if it rotated it. Throws BAD_INPUT (refused) or
 * UNAVAILABLE (no answer); nothing is stored either way.
 */
export async function checkedDelegatedGrant(
  grant: Extract<OAuth2Grant, { kind: "refresh-token" }>,
  login: string,
  field: string,
): Promise<Extract<OAuth2Grant, { kind: "refresh-token" }>> {
  try {
    const token = await requestAccessToken(grant, login);
    return token.refreshToken ? { ...grant, refreshToken: token.refreshToken } : grant;
  } catch (e: unknown) {
    if (!(e instanceof TokenEndpointError)) throw e;
    throw new ImapferryError(e.code, e.message, [
      { path: [field, e.oauthCode === "invalid_client" ? "clientId" : "refreshToken"], message: e.message },
    ]);
  }
}

/**
 * Stores a side's rotated refresh token on the job the worker is running (fenced: only while this
 * worker's attempt still holds the job), so a rerun or a resumed run starts from the newest one.
 */
export async function storeRotatedGrant(
  ctx: Pick<ServiceContext, "db" | "vault">,
  jobId: number,
  fence: { workerId: string; attempt: number },
  side: "source" | "destination",
  grant: OAuth2Grant,
): Promise<void> {
  if (grant.kind !== "refresh-token") return;
  const sealed = encryptDelegatedGrant(ctx.vault, grant);
  await ctx.db
    .updateTable("jobs")
    .set(side === "source" ? { source_oauth2: sealed } : { dest_oauth2: sealed })
    .where("id", "=", jobId)
    .where("worker_id", "=", fence.workerId)
    .where("attempt", "=", fence.attempt)
    .execute();
}
