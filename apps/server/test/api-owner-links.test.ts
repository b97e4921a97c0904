import { createHash } from "node:crypto";
import { createApiToken } from "@imapferry/core";
import type { ImapferryClient } from "@imapferry/sdk";
import { createClient } from "@imapferry/sdk";
import type { ImapPair, SmtpTestServer } from "@imapferry/testkit";
import { startImapPair, startSmtpServer } from "@imapferry/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiTestServer } from "./api-harness.ts";
import { ResponseRecorder, startApiTestServer } from "./api-harness.ts";
import { errorOf } from "./support/client-error.ts";
import { waitFor, waitForJobEnd } from "./support/wait-for.ts";

// A hosting panel creates a migration without the customer's old password: imapferry emails the
// mailbox's owner a single-use link (or hands it back), reminds them, and lets it expire.

const OWNER_PASSWORD = "Owner-Old-Pass-4471!";
const DEST_PASSWORD = "dst-Links-9034?";
const OWNER_EMAIL = "alice.owner@customer.example";

function linkIn(text: string): string {
  const url = /(http:\/\/127\.0\.0\.1:\d+\/credentials\/[A-Za-z0-9_-]{43})/.exec(text)?.[1];
  if (!url) throw new Error(`No credential link in:\n${text}`);
  return url;
}

/** The field paths of an API error's problems. */
function problemPaths(error: unknown): unknown[] {
  const data = (error as { data?: { problems?: { path: unknown }[] } } | null)?.data;
  return (data?.problems ?? []).map((p) => p.path);
}

const tokenOf = (url: string) => url.slice(url.lastIndexOf("/") + 1);
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("credential links asking mailbox owners for their old password", () => {
  let smtp: SmtpTestServer;
  let imap: ImapPair;
  let server: ApiTestServer;
  let admin: ImapferryClient;
  let acme: ImapferryClient;
  let globex: ImapferryClient;
  /** Bearer tokens, for the REST API. */
  const tokens = { acme: "", globex: "" };
  let sourceServerId: number;
  let destServerId: number;
  const recorder = new ResponseRecorder();

  function awaitingJob(client: ImapferryClient, login: string, askOwner: Record<string, unknown>) {
    return client.jobs.create.mutate({
      sourceServerId,
      sourceEmail: login,
      destServerId,
      destEmail: login,
      destPassword: DEST_PASSWORD,
      dryRun: false,
      askOwner,
    });
  }

  async function jobCount(): Promise<number> {
    const row = await server.ctx.db
      .selectFrom("jobs")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  beforeAll(async () => {
    [smtp, imap] = await Promise.all([startSmtpServer(), startImapPair()]);
    // Two wrong passwords from one address are free; the next try waits ten minutes (see the last test).
    server = await startApiTestServer({
      smtpPort: smtp.port,
      ownerLinkRateLimits: { addressFailures: 2, userFailures: 2, baseDelayMs: 600_000 },
    });
    const adminId = (await server.ctx.db.selectFrom("users").select("id").executeTakeFirstOrThrow()).id;
    const token = async (name: string, tenant?: string) =>
      (await createApiToken(server.ctx, adminId, { name, role: tenant ? "operate" : "admin", tenant })).token;
    admin = createClient({ url: server.url, token: await token("admin"), fetch: recorder.fetch });
    tokens.acme = await token("acme", "acme");
    tokens.globex = await token("globex", "globex");
    acme = createClient({ url: server.url, token: tokens.acme, fetch: recorder.fetch });
    globex = createClient({ url: server.url, token: tokens.globex, fetch: recorder.fetch });
    sourceServerId = (
      await admin.servers.create.mutate({
        name: "Old provider",
        host: "127.0.0.1",
        port: imap.source.port,
        security: "none",
      })
    ).id;
    destServerId = (
      await admin.servers.create.mutate({
        name: "New provider",
        host: "127.0.0.1",
        port: imap.destination.port,
        security: "none",
      })
    ).id;
    for (const user of ["alice@old.example", "bob@old.example", "carol@old.example"]) {
      await imap.source.addUser(user, OWNER_PASSWORD);
      await imap.destination.addUser(user, DEST_PASSWORD);
    }
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    await imap?.stop();
    await smtp?.close();
  });

  it("emails the owner a single-use link; the job awaits its password without a queue entry", async () => {
    const job = await awaitingJob(acme, "alice@old.example", { email: OWNER_EMAIL });
    expect(job.status).toBe("awaiting_credentials");
    expect(job.tenant).toBe("acme");
    expect(job.credentialRequest).toMatchObject({ status: "pending", ownerEmail: OWNER_EMAIL, url: null });
    const lifetime =
      Date.parse(job.credentialRequest!.expiresAt) - Date.parse(job.credentialRequest!.createdAt);
    expect(lifetime).toBe(7 * 24 * 3600 * 1000);

    const [mail] = await smtp.waitForMessages(1);
    expect(mail!.to).toEqual([OWNER_EMAIL]);
    expect(mail!.subject).toContain("alice@old.example");
    expect(mail!.text).toContain("Old provider");
    const url = linkIn(mail!.text);
    expect(url.startsWith(`${server.url}/credentials/`)).toBe(true);

    // Only the token's hash is stored; no migration is queued for the job.
    const stored = await server.ctx.db
      .selectFrom("credential_requests")
      .selectAll()
      .where("job_id", "=", job.id)
      .executeTakeFirstOrThrow();
    expect(stored.token_hash).toBe(sha256(tokenOf(url)));
    expect(JSON.stringify(stored)).not.toContain(tokenOf(url));
    const entries = await server.ctx.pool.query(
      "select count(*)::text as n from graphile_worker._private_jobs where key = $1",
      [`imapferry:job:${job.id}`],
    );
    expect(entries.rows[0]?.n).toBe("0");

    const seen = await waitFor("the email to be recorded as sent", async () => {
      const got = await acme.jobs.get.query({ id: job.id });
      return got.credentialRequest?.emailedAt ? got : null;
    });
    expect(seen.credentialRequest?.remindersSent).toBe(0);

    // The issue is in the audit log, without the link.
    const issued = await admin.audit.list.query({ action: "credentialLinks.issue" });
    expect(issued.items[0]).toMatchObject({ targetId: job.id, tenant: "acme", method: "token" });
    expect(JSON.stringify(issued)).not.toContain(tokenOf(url));

    // The owner's page shows the login and the server's name, nothing of the destination.
    const page = await fetch(url);
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain("alice@old.example");
    expect(text).toContain("Old provider");
    expect(text).not.toContain("New provider");
    expect(text).not.toContain("127.0.0.1");
  });

  it("reminds the owner at half the link's life, once, unless the link was used", async () => {
    const job = await awaitingJob(acme, "bob@old.example", { email: OWNER_EMAIL, expiresInHours: 2 });
    await smtp.waitForMessages(2);
    const request = job.credentialRequest!;
    // The reminder is due at half-life (an hour from now): bring it forward instead of waiting.
    await server.ctx.pool.query("update graphile_worker._private_jobs set run_at = now() where key = $1", [
      `imapferry:credential-link:${request.id}:reminder`,
    ]);
    const messages = await smtp.waitForMessages(3);
    const reminder = messages[2]!;
    expect(reminder.subject).toMatch(/^Reminder: /);
    expect(linkIn(reminder.text)).toBe(linkIn(messages[1]!.text));
    const got = await waitFor("the reminder to be counted", async () => {
      const j = await acme.jobs.get.query({ id: job.id });
      return j.credentialRequest?.remindersSent === 1 ? j : null;
    });
    expect(got.credentialRequest?.lastReminderAt).not.toBeNull();
  });

  it("returns the link once to the calling panel, and a used link cannot be used again", async () => {
    const job = await awaitingJob(acme, "carol@old.example", { returnLink: true, expiresInHours: 24 });
    const url = job.credentialRequest?.url;
    expect(url).toMatch(/\/credentials\/[A-Za-z0-9_-]{43}$/);
    // Shown once: reading the job again never shows it.
    expect((await acme.jobs.get.query({ id: job.id })).credentialRequest?.url).toBeNull();

    const post = (password: string) =>
      fetch(url!, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ password }).toString(),
      });
    const wrong = await post("not-the-password");
    expect(wrong.status).toBe(400);
    const wrongText = await wrong.text();
    expect(wrongText).toContain("That password was not accepted for carol@old.example.");
    expect(wrongText).not.toContain("not-the-password");
    expect((await acme.jobs.get.query({ id: job.id })).credentialRequest).toMatchObject({
      status: "pending",
      failedAttempts: 1,
    });

    const right = await post(OWNER_PASSWORD);
    expect(right.status).toBe(200);
    expect(await right.text()).toContain("Thank you");
    const again = await fetch(url!);
    expect(again.status).toBe(410);
    expect(await again.text()).toContain("This link has already been used");
    const reused = await post(OWNER_PASSWORD);
    expect(reused.status).toBe(410);

    // Gives up (naming the job) well before the test's own five minutes run out.
    const done = await waitForJobEnd(acme, job.id, 120_000);
    expect(done.status).toBe("done");
    expect(done.credentialRequest).toMatchObject({ status: "used" });
    expect(done.credentialRequest?.usedAt).not.toBeNull();

    // Used, with the owner's address, and the refused try before it; never the password.
    const uses = await admin.audit.list.query({ action: "credentialLinks.use" });
    expect(uses.items.map((e) => e.outcome)).toEqual(["ok", "UNAUTHORIZED"]);
    expect(uses.items[0]).toMatchObject({ method: "anonymous", targetId: job.id, tenant: "acme" });
    const audit = await server.ctx.db.selectFrom("audit_events").select("details").execute();
    expect(JSON.stringify(audit)).not.toContain(OWNER_PASSWORD);
    expect(recorder.containing(OWNER_PASSWORD)).toEqual([]);
  }, 300_000);

  it("refuses an expired link with a page saying so, and a new link replaces it", async () => {
    const job = await awaitingJob(acme, "alice@old.example", { returnLink: true });
    const url = job.credentialRequest!.url!;
    await server.ctx.pool.query(
      "update credential_requests set expires_at = now() - interval '1 minute' where job_id = $1",
      [job.id],
    );
    const page = await fetch(url);
    expect(page.status).toBe(410);
    expect(await page.text()).toContain("This link has expired");
    const refused = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `password=${encodeURIComponent(OWNER_PASSWORD)}`,
    });
    expect(refused.status).toBe(410);
    const seen = await acme.jobs.get.query({ id: job.id });
    expect(seen.status).toBe("awaiting_credentials");
    expect(seen.credentialRequest?.status).toBe("expired");

    const renewed = await acme.jobs.sendOwnerLink.mutate({ id: job.id, sendEmail: false, returnLink: true });
    expect(renewed.credentialRequest).toMatchObject({ status: "pending" });
    expect(renewed.credentialRequest?.url).not.toBe(url);
    expect((await fetch(renewed.credentialRequest!.url!)).status).toBe(200);
    expect(await (await fetch(url)).text()).toContain("replaced by a newer one");

    // Cancelling the job ends its link.
    expect((await acme.jobs.cancel.mutate({ id: job.id })).status).toBe("cancelled");
    expect(await (await fetch(renewed.credentialRequest!.url!)).text()).toContain("This move was cancelled");
  });

  it("queues an awaiting job when the operator enters the source password, and ends its link", async () => {
    const job = await awaitingJob(acme, "carol@old.example", { returnLink: true });
    const rerun = await errorOf(acme.jobs.rerun.mutate({ id: job.id }));
    expect(rerun?.data).toMatchObject({ code: "CONFLICT" });
    expect(rerun?.message).toMatch(/waiting for its owner to enter the source password/);
    const edited = await acme.jobs.update.mutate({ id: job.id, sourcePassword: OWNER_PASSWORD });
    expect(["queued", "running", "done"]).toContain(edited.status);
    expect(edited.credentialRequest?.status).toBe("cancelled");
    expect(await (await fetch(job.credentialRequest!.url!)).text()).toContain("This move was cancelled");
  });

  it("keeps each tenant's links to its own token", async () => {
    const job = await awaitingJob(acme, "bob@old.example", { returnLink: true });
    const hidden = await errorOf(globex.jobs.get.query({ id: job.id }));
    expect(hidden?.data).toMatchObject({ code: "NOT_FOUND" });
    const resend = await errorOf(globex.jobs.sendOwnerLink.mutate({ id: job.id, returnLink: true }));
    expect(resend?.data).toMatchObject({ code: "NOT_FOUND" });
    expect(resend?.message).toBe(`There is no job ${job.id}.`);
    // The same over REST: another tenant's job does not exist; its own tenant gets a new link back.
    const restLink = (who: "acme" | "globex") =>
      fetch(`${server.url}/api/v1/jobs/${job.id}/owner-link`, {
        method: "POST",
        headers: { authorization: `Bearer ${tokens[who]}`, "content-type": "application/json" },
        body: JSON.stringify({ sendEmail: false, returnLink: true }),
      });
    expect((await restLink("globex")).status).toBe(404);
    const own = await restLink("acme");
    expect(own.status).toBe(200);
    const renewed = (await own.json()) as { credentialRequest: { status: string; url: string } };
    expect(renewed.credentialRequest.status).toBe("pending");
    expect(renewed.credentialRequest.url).toMatch(/\/credentials\/[A-Za-z0-9_-]{43}$/);
    const document = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(document.paths)).toContain("/jobs/{id}/owner-link");

    const listed = await globex.jobs.list.query({ status: "awaiting_credentials" });
    expect(listed.items).toEqual([]);
    const ownList = await acme.jobs.list.query({ status: "awaiting_credentials" });
    expect(ownList.items.map((j) => j.id)).toContain(job.id);
    expect(ownList.items.every((j) => j.tenant === "acme" && j.status === "awaiting_credentials")).toBe(true);
  });

  it("answers bad input with a sentence naming the field, and creates nothing", async () => {
    const before = await jobCount();
    const cases: { input: Record<string, unknown>; path: string[]; message: RegExp }[] = [
      {
        input: { sourcePassword: "given", askOwner: { email: OWNER_EMAIL } },
        path: ["askOwner"],
        message: /either the source password .* or askOwner/,
      },
      {
        input: { askOwner: {} },
        path: ["askOwner", "email"],
        message: /Give the owner's email, or set returnLink/,
      },
      {
        input: { askOwner: { email: "not an address" } },
        path: ["askOwner", "email"],
        message: /must be an email address/,
      },
      {
        input: { askOwner: { returnLink: true, expiresInHours: 0 } },
        path: ["askOwner", "expiresInHours"],
        message: /at least 1 hour/,
      },
      {
        input: { askOwner: { returnLink: true, expiresInHours: 24 * 365 } },
        path: ["askOwner", "expiresInHours"],
        message: /at most 30 days/,
      },
    ];
    for (const c of cases) {
      const error = await errorOf(
        admin.jobs.create.mutate({
          sourceServerId,
          sourceEmail: "alice@old.example",
          destServerId,
          destEmail: "alice@old.example",
          destPassword: DEST_PASSWORD,
          ...c.input,
        } as Parameters<typeof admin.jobs.create.mutate>[0]),
      );
      expect(error?.data, JSON.stringify(c.input)).toMatchObject({ code: "BAD_REQUEST" });
      expect(problemPaths(error)[0]).toEqual(c.path);
      expect(error?.message).toMatch(c.message);
    }
    expect(await jobCount()).toBe(before);

    const queued = await admin.jobs.create.mutate({
      sourceServerId,
      sourceEmail: "alice@old.example",
      sourcePassword: OWNER_PASSWORD,
      destServerId,
      destEmail: "alice@old.example",
      destPassword: DEST_PASSWORD,
    });
    const conflict = await errorOf(admin.jobs.sendOwnerLink.mutate({ id: queued.id, returnLink: true }));
    expect(conflict?.data).toMatchObject({ code: "CONFLICT" });
    expect(conflict?.message).toMatch(/not awaiting its source password/);
    const nowhere = await errorOf(
      admin.jobs.sendOwnerLink.mutate({ id: queued.id, sendEmail: false, returnLink: false }),
    );
    expect(problemPaths(nowhere)[0]).toEqual(["sendEmail"]);
    const requests = await server.ctx.db
      .selectFrom("credential_requests")
      .select("id")
      .where("job_id", "=", queued.id)
      .execute();
    expect(requests).toEqual([]);

    // An unknown or malformed token is "not valid", not an error.
    expect((await fetch(`${server.url}/credentials/${"x".repeat(43)}`)).status).toBe(404);
    expect((await fetch(`${server.url}/credentials/short`)).status).toBe(404);
  });

  it("imports a CSV whose rows ask their owners: emailed by ownerEmail, or links returned", async () => {
    const mailsBefore = smtp.messages.length;
    const header =
      "sourceServerId,sourceEmail,sourcePassword,destServerId,destEmail,destPassword,owner_email";
    const line = (login: string, password: string, owner: string) =>
      `Old provider,${login},${password},New provider,${login},${DEST_PASSWORD},${owner}`;
    const csv = [
      header,
      line("alice@old.example", "", "alice.csv@customer.example"),
      line("bob@old.example", "", ""),
      line("carol@old.example", OWNER_PASSWORD, ""),
    ].join("\n");

    // Without returnLinks, a row with neither password nor owner email still needs its password.
    const refused = await errorOf(acme.importBatch(csv, { tag: "owners-refused", dryRun: true }));
    expect(refused?.message).toMatch(
      /Line 3, column sourcePassword: The source server has no admin credentials/,
    );
    const bad = await errorOf(
      acme.importBatch(`${header}\n${line("alice@old.example", OWNER_PASSWORD, "not-an-address")}`, {
        tag: "owners-bad",
      }),
    );
    expect(bad?.message).toMatch(/Line 2, column ownerEmail: .*email address/);
    expect(
      await server.ctx.db.selectFrom("batches").select("id").where("tag", "like", "owners-%").execute(),
    ).toEqual([]);

    const imported = await acme.importBatch(csv, {
      tag: "owners-wave",
      dryRun: true,
      askOwners: { returnLinks: true, expiresInHours: 48 },
    });
    expect(imported.jobCount).toBe(3);
    expect("awaitingCount" in imported && imported.awaitingCount).toBe(2);
    const links = "ownerLinks" in imported ? imported.ownerLinks : [];
    expect(links.map((l) => [l.line, l.sourceEmail, l.ownerEmail])).toEqual([
      [2, "alice@old.example", "alice.csv@customer.example"],
      [3, "bob@old.example", null],
    ]);
    expect(links.every((l) => l.url?.startsWith(`${server.url}/credentials/`))).toBe(true);
    expect(imported.batch.counts).toMatchObject({ awaiting_credentials: 2, queued: expect.any(Number) });

    const mails = await smtp.waitForMessages(mailsBefore + 1);
    const mail = mails.find((m) => m.to.includes("alice.csv@customer.example"));
    expect(linkIn(mail!.text)).toBe(links[0]!.url);
    const issued = await admin.audit.list.query({ action: "credentialLinks.issue", limit: 1 });
    expect(issued.items[0]?.details).toMatchObject({ batchId: imported.batch.id, links: 2, emailed: 1 });
  });

  it("holds back password guesses on links from an address that keeps failing", async () => {
    const job = await awaitingJob(acme, "bob@old.example", { returnLink: true });
    const url = job.credentialRequest!.url!;
    const post = (password: string) =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ password }).toString(),
      });
    // The address's second failure (its first was in an earlier test) is still checked…
    expect(await (await post("guess-1")).text()).toContain("That password was not accepted");
    // …then even the right password waits, and the server is not asked.
    const held = await post(OWNER_PASSWORD);
    expect(held.status).toBe(400);
    expect(await held.text()).toMatch(/Too many tries\. Wait 600 seconds, then try again\./);
    const seen = await acme.jobs.get.query({ id: job.id });
    expect(seen.status).toBe("awaiting_credentials");
    expect(seen.credentialRequest).toMatchObject({ status: "pending", failedAttempts: 1 });
  });

  it("refuses to email a link while emails are off, and changes nothing", async () => {
    const quiet = await startApiTestServer({ worker: false });
    try {
      const adminId = (await quiet.ctx.db.selectFrom("users").select("id").executeTakeFirstOrThrow()).id;
      const { token } = await createApiToken(quiet.ctx, adminId, { name: "t", role: "admin" });
      const client = createClient({ url: quiet.url, token });
      const s = await client.servers.create.mutate({
        name: "x",
        host: "127.0.0.1",
        port: 1143,
        security: "none",
      });
      const error = await errorOf(
        client.jobs.create.mutate({
          sourceServerId: s.id,
          sourceEmail: "a@x.example",
          destServerId: s.id,
          destEmail: "a@y.example",
          destPassword: "p",
          askOwner: { email: OWNER_EMAIL },
        }),
      );
      expect(error?.data).toMatchObject({ code: "BAD_REQUEST" });
      expect(error?.message).toMatch(/Emails are off \(SMTP is not configured\)/);
      expect(problemPaths(error)[0]).toEqual(["askOwner", "email"]);
      expect(await quiet.ctx.db.selectFrom("jobs").select("id").execute()).toEqual([]);
    } finally {
      await quiet.stop();
    }
  });
});
