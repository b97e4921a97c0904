import { appendLogChunk, createJob, createServer } from "@imapferry/core";
import type { ImapferryClient } from "@imapferry/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";
import { adminTokenClient } from "./support/admin-client.ts";

/** imapsync-shaped lines with non-ASCII folder names, so chunk and page edges fall inside characters. */
function line(i: number): string {
  return `msg Archiv/2024/Café ☕/Ordner-${i % 97} [${i}] {${4096 + (i % 5000)}} copied to Archiv/2024/Café ☕ ${i}\n`;
}

describe("job logs over the API", () => {
  let server: ApiTestServer;
  let client: ImapferryClient;
  let jobId: number;
  let token: string;
  let log = "";

  beforeAll(async () => {
    server = await startApiTestServer();
    ({ client, token } = await adminTokenClient(server, { name: "logs" }));
    // No worker may run the job: the log below is written by the test alone.
    await server.worker?.stop();
    const imap = await createServer(server.ctx, { name: "nowhere", host: "imap.invalid" });
    const job = await createJob(server.ctx, {
      sourceServerId: imap.id,
      sourceEmail: "a@example.com",
      sourcePassword: "pw-a",
      destServerId: imap.id,
      destEmail: "b@example.com",
      destPassword: "pw-b",
    });
    jobId = job.id;
    await server.ctx.db.updateTable("jobs").set({ status: "done" }).where("id", "=", jobId).execute();
    // ~3 MB in chunks of ~60 KiB: several download pages and many tail pages.
    let chunk = "";
    for (let i = 0; Buffer.byteLength(log) < 3 * 1024 * 1024; i++) {
      chunk += line(i);
      if (Buffer.byteLength(chunk) > 60 * 1024) {
        await appendLogChunk(server.ctx.db, jobId, chunk);
        log += chunk;
        chunk = "";
      }
    }
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("downloads a multi-page log byte for byte", async () => {
    const response = await client.downloadLog(jobId);
    expect(response.headers.get("content-disposition")).toBe(
      `attachment; filename="job-${jobId}-a-example.com-b-example.com.log"`,
    );
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.equals(Buffer.from(log))).toBe(true);
  });

  it("follows a finished job's log from the start and from any byte offset, then ends", async () => {
    let whole = "";
    for await (const piece of client.followLogs(jobId)) whole += piece;
    expect(whole).toBe(log);

    const bytes = Buffer.from(log);
    // An offset inside a multi-byte character starts at the next whole character.
    const inside = bytes.indexOf(Buffer.from("☕")) + 1;
    let tail = "";
    let lastOffset = 0;
    for await (const piece of client.followLogs(jobId, {
      fromOffset: inside,
      onOffset: (o) => (lastOffset = o),
    })) {
      tail += piece;
    }
    expect(tail).toBe(bytes.subarray(inside + 2).toString());
    expect(lastOffset).toBe(bytes.length);

    const middle = 1_234_567;
    let rest = "";
    for await (const piece of client.followLogs(jobId, { fromOffset: middle })) rest += piece;
    expect(Buffer.from(rest).equals(bytes.subarray(middle))).toBe(true);
  });

  it("speaks tRPC's SSE on the wire, with the security headers, resuming at Last-Event-ID", async () => {
    const bytes = Buffer.from(log);
    const end = bytes.length;
    const from = (offset: number) => JSON.stringify({ offset, text: bytes.subarray(offset).toString() });
    const tail = async (input: unknown, headers: Record<string, string> = {}) => {
      const response = await fetch(
        `${server.url}/trpc/logs.tail?input=${encodeURIComponent(JSON.stringify(input))}`,
        { headers: { authorization: `Bearer ${token}`, ...headers } },
      );
      return { response, text: await response.text() };
    };

    const { response, text } = await tail({ jobId, fromOffset: end - 20 });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
    const events = text.split("\n\n").filter(Boolean);
    expect(events[0]).toMatch(/^event: connected\ndata: \{.*"reconnectAfterInactivityMs":\d+/);
    expect(events[1]).toBe(`data: ${from(end - 20)}\nid: ${end}`);
    expect(events.at(-1)).toBe("event: return\ndata: ");

    // A reconnecting EventSource sends the last id it saw; the stream resumes there.
    const resumed = await tail({ jobId }, { "last-event-id": String(end - 5) });
    expect(resumed.text).toContain(`data: ${from(end - 5)}\nid: ${end}`);

    // Bad input is an error event naming the field, not a broken stream.
    const bad = await tail({ jobId: -1 });
    expect(bad.response.status).toBe(200);
    const error = /event: serialized-error\ndata: (.*)/.exec(bad.text)?.[1];
    expect(JSON.parse(error ?? "null")).toMatchObject({
      data: { code: "BAD_REQUEST", problems: [expect.objectContaining({ path: ["jobId"] })] },
    });

    // Without a token: UNAUTHORIZED, and nothing of the log.
    const anonymous = await fetch(
      `${server.url}/trpc/logs.tail?input=${encodeURIComponent(JSON.stringify({ jobId }))}`,
    );
    const anonymousText = await anonymous.text();
    expect(anonymousText).toContain('"code":"UNAUTHORIZED"');
    expect(anonymousText).not.toContain("copied to");
  });

  it("answers NOT_FOUND for a job that does not exist", async () => {
    const followed = (async () => {
      for await (const _ of client.followLogs(999_999)) {
        // nothing arrives
      }
    })();
    await expect(followed).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
    expect(
      (await fetch(`${server.url}/api/jobs/999999/log`, { headers: { authorization: "Bearer x" } })).status,
    ).toBe(401);
  });
});
