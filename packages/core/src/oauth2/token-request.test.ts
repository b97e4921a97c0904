import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { freeClosedPort } from "@imapferry/testkit";
import { describe, expect, it } from "vitest";
import { renewalDelayMs } from "./token-keeper.ts";
import { requestAccessToken, TokenEndpointError } from "./token-request.ts";

const grant = (tokenUrl: string) => ({
  kind: "microsoft-app" as const,
  tenantId: "contoso.onmicrosoft.com",
  clientId: "00000000-0000-4000-8000-000000000001",
  clientSecret: "Never-In-A-Sentence-1",
  tokenUrl,
});

async function refusal(promise: Promise<unknown>): Promise<TokenEndpointError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof TokenEndpointError))
    throw new Error(`expected a TokenEndpointError, got ${String(error)}`);
  return error;
}

describe("requestAccessToken", () => {
  it("treats an endpoint that does not answer as passing, and never puts the secret in the sentence", async () => {
    const port = await freeClosedPort();
    const error = await refusal(requestAccessToken(grant(`http://127.0.0.1:${port}/t/token`), "alice"));
    expect(error.passing).toBe(true);
    expect(error.message).toMatch(/^Microsoft's token endpoint did not answer for alice \(unreachable: /);
    expect(error.message).not.toContain("Never-In-A-Sentence-1");
  });

  it("treats a 5xx as passing and a 4xx OAuth2 error as a refusal naming its code", async () => {
    let status = 503;
    const server = createServer((_req, res) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: status === 503 ? "temporarily_unavailable" : "invalid_client" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
      expect((await refusal(requestAccessToken(grant(url), "alice"))).passing).toBe(true);
      status = 401;
      const refused = await refusal(requestAccessToken(grant(url), "alice"));
      expect(refused.passing).toBe(false);
      expect(refused.message).toBe(
        "Microsoft refused the app for alice: invalid_client — is the client secret right and not expired?",
      );
    } finally {
      server.close();
    }
  });
});

describe("renewalDelayMs", () => {
  it("renews an hour's token 5 minutes early and a 5-second token halfway", () => {
    expect(renewalDelayMs({ token: "t", expiresAt: 3_600_000 }, 0)).toBe(3_300_000);
    expect(renewalDelayMs({ token: "t", expiresAt: 5_000 }, 0)).toBe(2_500);
  });
});
