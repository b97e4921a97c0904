import { freeClosedPort } from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isImapferryError } from "../src/errors.ts";
import { importBatch, previewImport } from "../src/services/csv-import/csv-import.ts";
import { createServer } from "../src/services/servers/servers.ts";
import {
  type ImapFixture,
  type MailboxUsers,
  standardUsers,
  startImapFixture,
} from "./support/imap-fixture.ts";
import { createJobTestContext, type JobTestContext } from "./support/job-context.ts";

// An import that logs in to every account before it writes anything: a wrong password or an
// unreachable server is a problem of its row, with the server test's sentence.

const HEADER = "sourceServerId,sourceEmail,sourcePassword,destServerId,destEmail,destPassword,dryRun";

let t: JobTestContext;
let imap: ImapFixture;
let ann: MailboxUsers;
let bob: MailboxUsers;
let closedServerId: number;

beforeAll(async () => {
  t = await createJobTestContext();
  imap = await startImapFixture(t.ctx);
  ann = await standardUsers(imap.pair, "verify-ann");
  bob = await standardUsers(imap.pair, "verify-bob");
  closedServerId = (
    await createServer(t.ctx, {
      name: "gone",
      host: "127.0.0.1",
      port: await freeClosedPort(),
      security: "none",
    })
  ).id;
});

afterAll(async () => {
  await imap?.stop();
  await t?.close();
});

function csv(): string {
  const { sourceServerId: s, destServerId: d } = imap;
  return [
    HEADER,
    `${s},${ann.source.user},${ann.source.password},${d},${ann.dest.user},${ann.dest.password},false`,
    `${s},${bob.source.user},not-bobs-password,${d},${bob.dest.user},${bob.dest.password},false`,
    `${s},${ann.source.user},${ann.source.password},${closedServerId},${ann.dest.user},${ann.dest.password},false`,
  ].join("\n");
}

async function jobCount(): Promise<number> {
  const row = await t.ctx.db
    .selectFrom("jobs")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe("verifyLogins", () => {
  it("marks the row with the wrong password and the row with the unreachable host, and says nothing of passwords", async () => {
    const preview = await previewImport(t.ctx, { csv: csv(), verifyLogins: true });
    expect(preview.ok).toBe(false);
    expect(preview.validCount).toBe(1);
    expect(preview.rejectedCount).toBe(2);
    expect(preview.errors.map((e) => [e.line, e.column])).toEqual([
      [3, "sourcePassword"],
      [4, "destServerId"],
    ]);
    expect(preview.errors[0]?.reason).toBe(
      `127.0.0.1 rejected the login for ${bob.source.user}: check the user name and the password.`,
    );
    expect(preview.errors[1]?.reason).toMatch(/^127\.0\.0\.1:\d+ refused the connection/);
    expect(preview.logins?.map((l) => [l.line, l.source.ok, l.destination.ok])).toEqual([
      [2, true, true],
      [3, false, true],
      [4, true, false],
    ]);
    expect(JSON.stringify(preview)).not.toContain("not-bobs-password");
    expect(JSON.stringify(preview)).not.toContain(ann.source.password);
    expect(await jobCount()).toBe(0);
  }, 120_000);

  it("imports nothing when a login fails, or only the rows whose logins work with skipInvalid", async () => {
    const refused = await importBatch(t.ctx, { csv: csv(), verifyLogins: true, dryRun: false }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isImapferryError(refused) && refused.code).toBe("BAD_INPUT");
    expect((refused as Error).message).toMatch(/^Line 3, column sourcePassword: /);
    expect(await jobCount()).toBe(0);

    const partial = await importBatch(t.ctx, {
      csv: csv(),
      verifyLogins: true,
      skipInvalid: true,
      tag: "verified",
      dryRun: false,
    });
    expect(partial.jobCount).toBe(1);
    expect(partial.rejected.map((r) => r.line)).toEqual([3, 4]);
    const jobs = await t.ctx.db.selectFrom("jobs").select(["source_email", "dest_server_id"]).execute();
    expect(jobs).toEqual([{ source_email: ann.source.user, dest_server_id: imap.destServerId }]);
  }, 120_000);
});
