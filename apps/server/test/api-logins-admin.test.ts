import type { ImapferryClient } from "@imapferry/sdk";
import { TRPCClientError } from "@imapferry/sdk";
import type { ImapPair } from "@imapferry/testkit";
import { readMailbox, seedMailbox, standardMailboxSpec, startImapPair } from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { ResponseRecorder, startApiTestServer } from "./api-harness.ts";
import { adminSessionClient } from "./support/admin-client.ts";
import { waitForJobEnd } from "./support/wait-for.ts";

/*
 * Plain logins (no "@") and servers with admin (master user) credentials, through the API as the SDK
 * speaks it, against real Dovecots with a master passdb and the built-in engine.
 */

const ADMIN = { login: "master", password: "Master-Secret-31!" };

describe("logins and admin credentials through the API", () => {
  let server: ApiTestServer;
  let imap: ImapPair;
  let recorder: ResponseRecorder;
  let client: ImapferryClient;

  beforeAll(async () => {
    [server, imap] = await Promise.all([startApiTestServer(), startImapPair({ masterUsers: true })]);
    recorder = new ResponseRecorder();
    await imap.destination.addMasterUser(ADMIN.login, ADMIN.password);
    client = await adminSessionClient(server, recorder);
  });

  afterAll(async () => {
    await server?.stop();
    await imap?.stop();
  });

  it("migrates a plain login, alice, with passwords; and one with only its login on an admin server", async () => {
    for (const user of ["alice", "bob"]) {
      await imap.source.addUser(user, `src-${user}-pw`);
      await imap.destination.addUser(user, `dst-${user}-pw`);
      await seedMailbox(imap.source, user, `src-${user}-pw`, standardMailboxSpec());
    }
    const source = await client.servers.create.mutate({
      name: "old",
      host: "127.0.0.1",
      port: imap.source.port,
      security: "none",
    });
    expect(source.admin).toBeNull();
    const dest = await client.servers.create.mutate({
      name: "new",
      host: "127.0.0.1",
      port: imap.destination.tlsPort,
      security: "tls",
      acceptSelfSigned: true,
      admin: { mode: "sasl-authzid", ...ADMIN },
    });
    // The admin credentials are shown as their mode and login; the password is write-only.
    expect(dest.admin).toEqual({ mode: "sasl-authzid", login: ADMIN.login, separator: "*" });
    const listed = (await client.servers.list.query()).find((s) => s.id === dest.id);
    expect(listed?.admin).toEqual({ mode: "sasl-authzid", login: ADMIN.login, separator: "*" });

    // The connection test with a login and no password logs in as the admin for it.
    expect(await client.servers.test.mutate({ id: dest.id, email: "bob" })).toMatchObject({
      ok: true,
      authenticated: true,
    });

    const alice = await client.jobs.create.mutate({
      sourceServerId: source.id,
      sourceEmail: "alice",
      sourcePassword: "src-alice-pw",
      destServerId: dest.id,
      destEmail: "alice",
      destPassword: "dst-alice-pw",
      dryRun: false,
    });
    expect(alice.name).toBe("alice → alice");
    const bob = await client.jobs.create.mutate({
      sourceServerId: source.id,
      sourceEmail: "bob",
      sourcePassword: "src-bob-pw",
      destServerId: dest.id,
      destEmail: "bob",
      dryRun: false,
    });
    for (const [job, user] of [
      [alice, "alice"],
      [bob, "bob"],
    ] as const) {
      const ended = await waitForJobEnd(client, job.id, 120_000);
      expect(ended).toMatchObject({ status: "done", errorCategory: "ok", errorMessage: null });
      const copied = await readMailbox(imap.destination, user, `dst-${user}-pw`);
      expect(copied).toEqual(await readMailbox(imap.source, user, `src-${user}-pw`));
    }

    // The source server has no admin credentials: its password cannot be left out.
    const refused = await client.jobs.create
      .mutate({ sourceServerId: source.id, sourceEmail: "alice", destServerId: dest.id, destEmail: "alice" })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TRPCClientError);
    expect((refused as TRPCClientError<never>).message).toBe(
      "The source server has no admin credentials, so the source password is required.",
    );

    // Moving the server's endpoint needs the admin password again, wherever it would go.
    await client.servers.create.mutate({
      name: "spare",
      host: "127.0.0.1",
      port: 1,
      security: "none",
      admin: { mode: "login-separator", login: "root", password: "Spare-Secret-1" },
    });
    const spare = (await client.servers.list.query()).find((s) => s.name === "spare")!;
    const moved = await client.servers.update
      .mutate({ id: spare.id, host: "imap.elsewhere.example" })
      .catch((e: unknown) => e);
    expect((moved as TRPCClientError<never>).message).toMatch(/Enter the admin password again/);
    const cleared = await client.servers.update.mutate({ id: spare.id, admin: null });
    expect(cleared.admin).toBeNull();

    // No answer, stored or streamed, ever held an admin password.
    expect(recorder.bodies.length).toBeGreaterThan(0);
    expect(recorder.containing(ADMIN.password)).toEqual([]);
    expect(recorder.containing("Spare-Secret-1")).toEqual([]);
    const log = await server.ctx.db.selectFrom("job_logs").select("chunk").execute();
    expect(log.map((r) => r.chunk).join("")).not.toContain(ADMIN.password);
  });
});
