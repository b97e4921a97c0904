import { createApiToken } from "@imapferry/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";

interface ErrorBody {
  error?: {
    message: string;
    data: { code: string; httpStatus: number; problems: { path: (string | number)[] }[] };
  };
}

/** Tables whose row counts must not move when input is refused. */
const TABLES = ["jobs", "servers", "batches", "api_tokens", "users"] as const;

describe("hostile text and numbers get a sentence naming the field, and change nothing", () => {
  let server: ApiTestServer;
  let token: string;
  let serverId: number;

  async function call(
    path: string,
    input: unknown,
    method: "GET" | "POST",
  ): Promise<{ status: number; body: ErrorBody }> {
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const response =
      method === "GET"
        ? await fetch(`${server.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, {
            headers,
          })
        : await fetch(`${server.url}/trpc/${path}`, { method, headers, body: JSON.stringify(input) });
    return { status: response.status, body: (await response.json()) as ErrorBody };
  }

  async function counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const table of TABLES) {
      const row = await server.ctx.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .executeTakeFirstOrThrow();
      out[table] = Number(row.n);
    }
    return out;
  }

  beforeAll(async () => {
    server = await startApiTestServer();
    const admin = await server.ctx.db.selectFrom("users").select("id").executeTakeFirstOrThrow();
    token = (await createApiToken(server.ctx, admin.id, { name: "hostile" })).token;
    const created = await fetch(`${server.url}/trpc/servers.create`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "imap", host: "imap.example.com" }),
    });
    serverId = ((await created.json()) as { result: { data: { id: number } } }).result.data.id;
  });

  afterAll(async () => {
    await server?.stop();
  });

  const job = (extra: Record<string, unknown>) => ({
    sourceServerId: 0,
    sourceEmail: "alice@example.com",
    sourcePassword: "pw",
    destServerId: 0,
    destEmail: "alice@example.net",
    destPassword: "pw",
    ...extra,
  });

  const cases: { name: string; path: string; method: "GET" | "POST"; input: () => unknown; field: string }[] =
    [
      {
        name: "NUL in a job name",
        path: "jobs.create",
        method: "POST",
        input: () => job({ name: "a\u0000b" }),
        field: "name",
      },
      {
        name: "a control character in a login",
        path: "jobs.create",
        method: "POST",
        input: () => job({ sourceEmail: "al\u0000ice@example.com" }),
        field: "sourceEmail",
      },
      {
        name: "a login starting with -",
        path: "jobs.create",
        method: "POST",
        input: () => job({ destEmail: "--pipemess@rig.test" }),
        field: "destEmail",
      },
      {
        name: "a control character in a tenant",
        path: "jobs.create",
        method: "POST",
        input: () => job({ tenant: "acme\u001b[31m" }),
        field: "tenant",
      },
      {
        name: "NUL in a server name",
        path: "servers.create",
        method: "POST",
        input: () => ({ name: "x\u0000", host: "imap.example.org" }),
        field: "name",
      },
      {
        name: "NUL in a token name",
        path: "tokens.create",
        method: "POST",
        input: () => ({ name: "t\u0000" }),
        field: "name",
      },
      {
        name: "NUL in a search",
        path: "jobs.list",
        method: "GET",
        input: () => ({ q: "\u0000" }),
        field: "q",
      },
      {
        name: "NUL in a tenant filter",
        path: "jobs.list",
        method: "GET",
        input: () => ({ tenant: "\u0000" }),
        field: "tenant",
      },
      {
        name: "a 20-digit cursor",
        path: "jobs.list",
        method: "GET",
        input: () => ({ cursor: "99999999999999999999" }),
        field: "cursor",
      },
      {
        name: "NUL in a batch tag",
        path: "batches.get",
        method: "GET",
        input: () => ({ tag: "wave\u0000" }),
        field: "tag",
      },
      { name: "a huge job id", path: "jobs.get", method: "GET", input: () => ({ id: 1e15 }), field: "id" },
      {
        name: "NUL in a login user name",
        path: "auth.login",
        method: "POST",
        input: () => ({ username: "ad\u0000min", password: "x" }),
        field: "username",
      },
    ];

  for (const c of cases) {
    it(`${c.name}: 400 naming ${c.field}`, async () => {
      const before = await counts();
      const input = c.input() as Record<string, unknown>;
      if (input.sourceServerId === 0)
        Object.assign(input, { sourceServerId: serverId, destServerId: serverId });
      const { status, body } = await call(c.path, input, c.method);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(body.error?.data.problems.map((p) => p.path.at(-1))).toContain(c.field);
      expect(body.error?.message).toMatch(new RegExp(`^${c.field}: `));
      expect(await counts()).toEqual(before);
    });
  }

  it("a huge lastEventId ends a log stream with a sentence, not an internal error", async () => {
    const input = encodeURIComponent(JSON.stringify({ jobId: 1, lastEventId: "9".repeat(40) }));
    const response = await fetch(`${server.url}/trpc/logs.tail?input=${input}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const text = await response.text();
    expect(text).toContain("serialized-error");
    expect(text).toContain("BAD_REQUEST");
    expect(text).toContain("lastEventId");
  });

  it("the CSV preview finds a NUL and a leading - in logins, and the import writes nothing", async () => {
    const csv = [
      "sourceServerId,sourceEmail,sourcePassword,destServerId,destEmail,destPassword,name",
      "imap,al\u0000ice@example.com,pw,imap,alice@example.net,pw,",
      "imap,bob@example.com,pw,imap,--pipemess@rig.test,pw,",
      "imap,carol@example.com,pw,imap,carol@example.net,pw,bell\u0007",
    ].join("\n");
    const before = await counts();
    const preview = (await call("batches.preview", { csv }, "POST")) as unknown as {
      status: number;
      body: { result: { data: { ok: boolean; errors: { line: number; column: string; reason: string }[] } } };
    };
    expect(preview.status).toBe(200);
    expect(preview.body.result.data.ok).toBe(false);
    expect(preview.body.result.data.errors.map((e) => [e.line, e.column])).toEqual([
      [2, "sourceEmail"],
      [3, "destEmail"],
      [4, "name"],
    ]);
    const imported = await call("batches.import", { csv }, "POST");
    expect(imported.status).toBe(400);
    expect(await counts()).toEqual(before);
  });

  it("a preview lists the first 200 problems and counts them all", async () => {
    const header = "sourceServerId,sourceEmail,sourcePassword,destServerId,destEmail,destPassword";
    const csv = [
      header,
      // A login starting with "-" is refused (it would read as an engine option).
      ...Array.from({ length: 300 }, (_, i) => `imap,-bad-${i},pw,imap,x@example.net,pw`),
    ].join("\n");
    const preview = (await call("batches.preview", { csv }, "POST")) as unknown as {
      body: { result: { data: { errors: unknown[]; errorCount: number } } };
    };
    expect(preview.body.result.data.errors).toHaveLength(200);
    expect(preview.body.result.data.errorCount).toBe(300);
  });
});
