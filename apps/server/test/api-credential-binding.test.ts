import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import type { ImapferryClient } from "@imapferry/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";
import { adminTokenClient } from "./support/admin-client.ts";
import { errorOf } from "./support/client-error.ts";
import type { RecordingImapListener } from "./support/recording-imap-listener.ts";
import { startRecordingImapListener } from "./support/recording-imap-listener.ts";

const SOURCE_PASSWORD = "Stored-Source-Secret-1234";
const DEST_PASSWORD = "Stored-Dest-Secret-5678";
const FINAL = new Set(["done", "incomplete", "failed", "cancelled"]);

/** A loopback port nothing listens on: the job's real servers, so its runs end quickly as failed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("a stored credential is only ever sent to the endpoint it was entered for", () => {
  let server: ApiTestServer;
  let attacker: RecordingImapListener;
  let client: ImapferryClient;
  let sourceServerId: number;
  let destServerId: number;
  let attackerServerId: number;

  async function waitUntilFinal(jobId: number): Promise<string> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const job = await client.jobs.get.query({ id: jobId });
      if (FINAL.has(job.status)) return job.status;
      if (Date.now() > deadline) throw new Error(`job ${jobId} is still ${job.status} after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function endedJob(name: string): Promise<number> {
    const job = await client.jobs.create.mutate({
      name,
      sourceServerId,
      sourceEmail: "alice@example.com",
      sourcePassword: SOURCE_PASSWORD,
      destServerId,
      destEmail: "alice@example.net",
      destPassword: DEST_PASSWORD,
      dryRun: true,
    });
    await waitUntilFinal(job.id);
    return job.id;
  }

  function expectNothingHeard() {
    for (const secret of [SOURCE_PASSWORD, DEST_PASSWORD]) expect(attacker.heard(secret)).toBe(false);
  }

  beforeAll(async () => {
    // A closed port would otherwise make each run wait and retry by itself: here they must just end.
    [server, attacker] = await Promise.all([
      startApiTestServer({ settings: { retryMaxAttempts: 0 } }),
      startRecordingImapListener(),
    ]);
    ({ client } = await adminTokenClient(server, { name: "test" }));
    const serverEntry = async (name: string, port: number) =>
      (await client.servers.create.mutate({ name, host: "127.0.0.1", port, security: "none" })).id;
    sourceServerId = await serverEntry("source", await closedPort());
    destServerId = await serverEntry("destination", await closedPort());
    attackerServerId = await serverEntry("attacker", attacker.port);
  });

  afterAll(async () => {
    await server?.stop();
    await attacker?.close();
  });

  it("the fake server records a login it is given (the test can see a leak)", async () => {
    const probe = await client.servers.test.mutate({
      id: attackerServerId,
      email: "probe@example.com",
      password: "Probe-Password-0000",
    });
    expect(probe).toBeDefined();
    expect(attacker.heard("Probe-Password-0000")).toBe(true);
  });

  it("moving a job to another server without its passwords is refused, and its rerun goes nowhere else", async () => {
    const jobId = await endedJob("moved to the attacker");
    const refused = await errorOf(client.jobs.update.mutate({ id: jobId, sourceServerId: attackerServerId }));
    const refusedDest = await errorOf(
      client.jobs.update.mutate({ id: jobId, destServerId: attackerServerId }),
    );
    const rerun = await client.jobs.rerun.mutate({ id: jobId });
    await waitUntilFinal(rerun.id);
    expectNothingHeard();
    expect(refused?.data).toMatchObject({ code: "BAD_REQUEST" });
    expect(refused?.message).toBe(
      "Changing a job's source server or login needs the source password again: the stored one was entered for another server or login.",
    );
    expect(refused?.data).toMatchObject({ problems: [{ path: ["sourcePassword"] }] });
    expect(refusedDest?.data).toMatchObject({ problems: [{ path: ["destPassword"] }] });
    const job = await client.jobs.get.query({ id: jobId });
    expect([job.sourceServerId, job.destServerId]).toEqual([sourceServerId, destServerId]);
  });

  it("changing a job's login without its password is refused; with the password both change", async () => {
    const jobId = await endedJob("login change");
    const refused = await errorOf(client.jobs.update.mutate({ id: jobId, destEmail: "mallory@example.net" }));
    expect(refused?.data).toMatchObject({ code: "BAD_REQUEST", problems: [{ path: ["destPassword"] }] });
    // Re-entering the password binds it to the new endpoint: that is the supported way to move a job.
    const moved = await client.jobs.update.mutate({
      id: jobId,
      sourceServerId: attackerServerId,
      sourcePassword: "A-New-Password-For-The-New-Server",
    });
    expect(moved.sourceServerId).toBe(attackerServerId);
    // Unchanged values are not changes.
    await client.jobs.update.mutate({
      id: jobId,
      destServerId,
      destEmail: "alice@example.net",
      name: "renamed",
    });
  });

  it("re-pointing a server that holds passwords is refused, and a bulk rerun sends them nowhere else", async () => {
    const jobIds = [await endedJob("bulk one"), await endedJob("bulk two")];
    const attempts = await Promise.all([
      errorOf(client.servers.update.mutate({ id: sourceServerId, port: attacker.port })),
      errorOf(client.servers.update.mutate({ id: destServerId, host: "127.0.0.2" })),
      errorOf(client.servers.update.mutate({ id: destServerId, security: "tls" })),
      errorOf(client.servers.update.mutate({ id: destServerId, acceptSelfSigned: true })),
    ]);
    const bulk = await client.jobs.bulk.mutate({ action: "rerun", ids: jobIds });
    for (const outcome of bulk.results) await waitUntilFinal(outcome.newJobId ?? 0);
    expectNothingHeard();
    for (const error of attempts) expect(error?.data).toMatchObject({ code: "CONFLICT" });
    expect(attempts[0]?.message).toMatch(
      /^The server "source" holds the passwords of \d+ jobs, entered for 127\.0\.0\.1:\d+ \(none\)\. /,
    );
    // What does not move the endpoint stays editable.
    const renamed = await client.servers.update.mutate({
      id: sourceServerId,
      name: "source (renamed)",
      sourceHostLimit: 3,
    });
    expect(renamed.name).toBe("source (renamed)");
  });

  it("a server that holds no passwords can be re-pointed", async () => {
    const spare = await client.servers.create.mutate({
      name: "spare",
      host: "127.0.0.1",
      port: 1993,
      security: "none",
    });
    const moved = await client.servers.update.mutate({
      id: spare.id,
      host: "imap.example.org",
      port: 993,
      security: "tls",
    });
    expect(moved).toMatchObject({ host: "imap.example.org", port: 993, security: "tls" });
  });
});
