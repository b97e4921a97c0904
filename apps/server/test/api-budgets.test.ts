import { SERVER_PRESETS } from "@imapferry/core";
import type { AppRouter, ImapferryClient } from "@imapferry/sdk";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";
import { adminTokenClient } from "./support/admin-client.ts";

// Provider budgets through the SDK: a server's daily byte budgets and connection cap, the presets'
// published limits, the sentences bad values get (changing nothing), and a job's usage.

describe("server budgets over the API", () => {
  let server: ApiTestServer;
  let client: ImapferryClient;

  beforeAll(async () => {
    server = await startApiTestServer({ worker: false });
    ({ client } = await adminTokenClient(server, { name: "budgets" }));
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function refusal(call: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
    const error = await call.then(
      () => new Error("expected a refusal"),
      (e: unknown) => e,
    );
    if (error instanceof TRPCClientError) return error as TRPCClientError<AppRouter>;
    throw error;
  }

  function problemsOf(error: TRPCClientError<AppRouter>): { path: (string | number)[]; message: string }[] {
    return ((error.data as { problems?: { path: (string | number)[]; message: string }[] } | undefined)
      ?.problems ?? []) as { path: (string | number)[]; message: string }[];
  }

  it("stores the Gmail preset's published limits and shows them on the server", async () => {
    const gmail = SERVER_PRESETS.gmail;
    const created = await client.servers.create.mutate({
      name: "Gmail",
      host: gmail.host,
      port: gmail.port,
      security: gmail.security,
      dailyDownloadBytes: gmail.dailyDownloadBytes,
      dailyUploadBytes: gmail.dailyUploadBytes,
      maxConnections: gmail.maxConnections,
    });
    expect(created).toMatchObject({
      dailyDownloadBytes: 2_500_000_000,
      dailyUploadBytes: 500_000_000,
      maxConnections: 15,
    });
    const cleared = await client.servers.update.mutate({ id: created.id, dailyUploadBytes: null });
    expect(cleared).toMatchObject({
      dailyDownloadBytes: 2_500_000_000,
      dailyUploadBytes: null,
      maxConnections: 15,
    });
  });

  it("refuses bad budgets and caps with a sentence naming the field, and changes nothing", async () => {
    const before = await client.servers.list.query();
    const base = { name: "Bad budgets", host: "imap.example.com" };
    const cases: { input: Record<string, unknown>; field: string; sentence: string }[] = [
      {
        input: { dailyDownloadBytes: 0 },
        field: "dailyDownloadBytes",
        sentence:
          "The daily download budget must be at least 1 MB (1,000,000 bytes, a whole number), or empty for no limit.",
      },
      {
        input: { dailyUploadBytes: 2.5 },
        field: "dailyUploadBytes",
        sentence:
          "The daily upload budget must be at least 1 MB (1,000,000 bytes, a whole number), or empty for no limit.",
      },
      {
        input: { dailyDownloadBytes: "5 MB" },
        field: "dailyDownloadBytes",
        sentence:
          "The daily download budget must be at least 1 MB (1,000,000 bytes, a whole number), or empty for no limit.",
      },
      {
        input: { maxConnections: 0 },
        field: "maxConnections",
        sentence: "The connection cap is a whole number from 1 to 100, or empty for the engine's own.",
      },
    ];
    for (const c of cases) {
      const error = await refusal(
        client.servers.create.mutate({ ...base, ...c.input } as Parameters<
          typeof client.servers.create.mutate
        >[0]),
      );
      expect(error.data?.code).toBe("BAD_REQUEST");
      expect(problemsOf(error)).toContainEqual({ path: [c.field], message: c.sentence });
      expect(error.message).toContain(c.sentence);
    }
    const window = await refusal(client.settings.update.mutate({ budgetWindowSeconds: 0 }));
    expect(window.message).toContain(
      "The budget window is a whole number of seconds from 1 to 2592000 (30 days); 86400 is a day.",
    );
    expect(await client.servers.list.query()).toEqual(before);
  });

  it("reports a job's accounts' usage against their budgets, with the window's reset time", async () => {
    await client.settings.update.mutate({ budgetWindowSeconds: 3600 });
    const source = await client.servers.create.mutate({
      name: "budgeted source",
      host: "imap.old.example",
      dailyDownloadBytes: 5_000_000,
    });
    const destination = await client.servers.create.mutate({
      name: "plain destination",
      host: "imap.new.example",
    });
    const job = await client.jobs.create.mutate({
      sourceServerId: source.id,
      sourceEmail: "Ann@Old.Example",
      sourcePassword: "pw-1234",
      destServerId: destination.id,
      destEmail: "ann@new.example",
      destPassword: "pw-5678",
    });
    // What an earlier run copied this hour, as the worker records it (logins compared without case).
    const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
    await server.ctx.db
      .insertInto("account_usage")
      .values({
        server_id: source.id,
        login: "ann@old.example",
        direction: "download",
        window_start: hour,
        bytes: 1_234_567,
      })
      .execute();
    const usage = await client.jobs.budgetUsage.query({ id: job.id });
    expect(usage).toEqual([
      {
        side: "source",
        direction: "download",
        serverId: source.id,
        serverName: "budgeted source",
        login: "Ann@Old.Example",
        usedBytes: 1_234_567,
        budgetBytes: 5_000_000,
        windowStart: hour.toISOString(),
        resetsAt: new Date(hour.getTime() + 3_600_000).toISOString(),
      },
      expect.objectContaining({ side: "destination", direction: "upload", usedBytes: 0, budgetBytes: null }),
    ]);
    const missing = await refusal(client.jobs.budgetUsage.query({ id: 999_999 }));
    expect(missing.data?.code).toBe("NOT_FOUND");
  });
});
