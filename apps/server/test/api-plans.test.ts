import type { AppRouter, BatchPlan, ImapferryClient } from "@imapferry/sdk";
import type { ImapPair } from "@imapferry/testkit";
import { readMailbox, seedMailbox, startImapPair } from "@imapferry/testkit";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { startApiTestServer } from "./api-harness.ts";
import { addImapPairServers, adminTokenClient } from "./support/admin-client.ts";

// A hosting panel drives a batch plan through the SDK: delta passes, a cutover, the sentences it
// shows its own users when a plan is refused.

const PASSWORD = "Plans-Api-pw1";
const USERS = ["fay@example.com", "gus@example.com"];

describe("batch plans over the API", () => {
  let server: ApiTestServer;
  let imap: ImapPair;
  let client: ImapferryClient;
  let batchId: number;

  beforeAll(async () => {
    [server, imap] = await Promise.all([
      startApiTestServer({ settings: { planMinIntervalSeconds: 2 } }),
      startImapPair(),
    ]);
    for (const user of USERS) {
      await imap.source.addUser(user, PASSWORD);
      await imap.destination.addUser(user, PASSWORD);
      await seedMailbox(imap.source, user, PASSWORD, {
        folders: [
          {
            path: "INBOX",
            messages: [1, 2, 3].map((n) => ({
              source: `From: a@example.org\r\nSubject: ${user} ${n}\r\nMessage-ID: <${n}.${user}>\r\n\r\nhello\r\n`,
            })),
          },
        ],
      });
    }
    ({ client } = await adminTokenClient(server, { name: "plans" }));
    const { sourceId, destId } = await addImapPairServers(client, imap);
    const imported = await client.importBatch(
      USERS.map((user) => ({
        sourceServerId: sourceId,
        sourceEmail: user,
        sourcePassword: PASSWORD,
        destServerId: destId,
        destEmail: user,
        destPassword: PASSWORD,
      })),
      { tag: "api-plan", dryRun: false },
    );
    batchId = imported.batch.id;
    await client.waitForBatch(batchId);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await imap?.stop();
  });

  async function refusal(call: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
    const error = await call.then(
      () => new Error("expected a refusal"),
      (e: unknown) => e,
    );
    if (error instanceof TRPCClientError) return error as TRPCClientError<AppRouter>;
    throw error;
  }

  it("refuses a plan that is too frequent or cuts over in the past, with a sentence naming the field", async () => {
    const tooOften = await refusal(client.batches.plan.set.mutate({ batchId, intervalSeconds: 1 }));
    expect(tooOften.data?.code).toBe("BAD_REQUEST");
    expect(tooOften.message).toBe(
      "Delta passes can run at most every 2 seconds (the planMinIntervalSeconds setting); every second is too often.",
    );
    const past = await refusal(
      client.batches.plan.set.mutate({ batchId, intervalSeconds: 3600, cutoverAt: "2001-02-03T04:05:06Z" }),
    );
    expect(past.message).toBe(
      "The cutover time 2001-02-03T04:05:06.000Z has already passed. Give a time in the future, or cut over now.",
    );
    const notIso = await refusal(
      client.batches.plan.set.mutate({ batchId, intervalSeconds: 3600, cutoverAt: "next friday" }),
    );
    expect(notIso.message).toContain("Give the cutover time as ISO 8601 with an offset");
    expect(await client.batches.plan.get.query({ batchId })).toBeNull();
    const noPlan = await refusal(client.batches.plan.cutover.mutate({ batchId }));
    expect(noPlan.data?.code).toBe("NOT_FOUND");
    expect(noPlan.message).toBe(`Batch ${batchId} has no plan. Set one first.`);
  });

  it("runs delta passes that bring new mail across, then cuts over and reports the outcome", async () => {
    const plan: BatchPlan = await client.batches.plan.set.mutate({ batchId, intervalSeconds: 2 });
    expect(plan).toMatchObject({ phase: "active", intervalSeconds: 2, passes: 0, cutoverAt: null });
    expect(Date.parse(plan.nextPassAt ?? "")).toBeGreaterThan(Date.now() - 5_000);

    await seedMailbox(imap.source, USERS[0]!, PASSWORD, {
      folders: [
        {
          path: "INBOX",
          messages: [
            { source: "From: a@example.org\r\nSubject: late\r\nMessage-ID: <late@x>\r\n\r\nlate\r\n" },
          ],
        },
      ],
    });
    const start = (await client.batches.plan.get.query({ batchId }))!.passes;
    let after = start;
    for (let i = 0; i < 600 && after < start + 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = (await client.batches.plan.get.query({ batchId }))!.passes;
    }
    expect(after).toBeGreaterThan(start);
    await client.waitForBatch(batchId);

    const cutting = await client.batches.plan.cutover.mutate({ batchId });
    expect(cutting.phase).toBe("cutting-over");
    let ended = cutting;
    for (let i = 0; i < 900 && ended.phase !== "ended"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      ended = (await client.batches.plan.get.query({ batchId }))!;
    }
    expect(ended.phase).toBe("ended");
    expect(ended.outcome).toEqual({ complete: 2, attention: 0 });
    const destination = await readMailbox(imap.destination, USERS[0]!, PASSWORD);
    expect(destination.folders.find((f) => f.path === "INBOX")?.messages).toHaveLength(4);

    const again = await refusal(client.batches.plan.pause.mutate({ batchId }));
    expect(again.data?.code).toBe("CONFLICT");
    expect(again.message).toBe(
      `The plan of batch ${batchId} has ended with its cutover. Only an active plan can be paused.`,
    );
  }, 300_000);

  it("gives a single job a plan of its own: delta passes, then a cutover", async () => {
    const user = "hal@example.com";
    await imap.source.addUser(user, PASSWORD);
    await imap.destination.addUser(user, PASSWORD);
    const message = (n: string) => ({
      source: `From: a@example.org\r\nSubject: ${n}\r\nMessage-ID: <${n}.${user}>\r\n\r\nhello\r\n`,
    });
    await seedMailbox(imap.source, user, PASSWORD, {
      folders: [{ path: "INBOX", messages: [message("one")] }],
    });
    const servers = await client.servers.list.query();
    const [oldId, newId] = ["old", "new"].map((name) => servers.find((s) => s.name === name)?.id ?? 0);
    const job = await client.jobs.create.mutate({
      sourceServerId: oldId!,
      sourceEmail: user,
      sourcePassword: PASSWORD,
      destServerId: newId!,
      destEmail: user,
      destPassword: PASSWORD,
      dryRun: false,
    });
    expect(await client.jobs.plan.get.query({ jobId: job.id })).toBeNull();

    // One of several mailboxes of a batch is planned with its batch.
    const member = (await client.jobs.list.query({ batchId })).items[0]!;
    const shared = await refusal(client.jobs.plan.set.mutate({ jobId: member.id, intervalSeconds: 2 }));
    expect(shared.message).toBe(
      `Job ${member.id} is one of several mailboxes of batch "api-plan": its plan is the batch's (plan batch ${batchId}).`,
    );

    const plan = await client.jobs.plan.set.mutate({ jobId: job.id, intervalSeconds: 2 });
    expect(plan).toMatchObject({ phase: "active", intervalSeconds: 2 });
    const planned = await client.jobs.get.query({ id: job.id });
    expect(planned.batchTag).toBe(`job-${job.id}`);
    await client.waitForBatch(planned.batchId!);

    await seedMailbox(imap.source, user, PASSWORD, {
      folders: [{ path: "INBOX", messages: [message("two")] }],
    });
    let passes = 0;
    for (let i = 0; i < 600 && passes < 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      passes = (await client.jobs.plan.get.query({ jobId: job.id }))?.passes ?? 0;
    }
    expect(passes).toBeGreaterThan(0);
    await client.waitForBatch(planned.batchId!);
    let ended = await client.jobs.plan.cutover.mutate({ jobId: job.id });
    for (let i = 0; i < 900 && ended.phase !== "ended"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      ended = (await client.jobs.plan.get.query({ jobId: job.id }))!;
    }
    expect(ended).toMatchObject({ phase: "ended", outcome: { complete: 1, attention: 0 } });
    const destination = await readMailbox(imap.destination, user, PASSWORD);
    expect(destination.folders.find((f) => f.path === "INBOX")?.messages.map((m) => m.size)).toHaveLength(2);
  }, 300_000);
});
