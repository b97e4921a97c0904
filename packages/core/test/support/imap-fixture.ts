import type { CountingProxy, ImapPair } from "@imapferry/testkit";
import {
  generateLargeMailbox,
  seedMailbox,
  standardMailboxSpec,
  startCountingProxy,
  startImapPair,
} from "@imapferry/testkit";
import type { ServiceContext } from "../../src/context.ts";
import { type CreateJobInput, createJob } from "../../src/services/jobs/index.ts";
import type { JobView } from "../../src/services/jobs/job-view.ts";
import { createServer } from "../../src/services/servers/servers.ts";

export interface ImapFixture {
  pair: ImapPair;
  sourceServerId: number;
  destServerId: number;
  /** With `countSourceConnections`: the relay the source server entry points at, counting connections. */
  sourceConnections?: CountingProxy;
  stop(): Promise<void>;
}

/**
 * A real Dovecot pair registered as two servers (implicit TLS, self-signed). `countSourceConnections`
 * registers the source behind a counting relay (see startCountingProxy).
 */
export async function startImapFixture(
  ctx: ServiceContext,
  options: { sourceHostLimit?: number; countSourceConnections?: boolean } = {},
): Promise<ImapFixture> {
  const pair = await startImapPair();
  const sourceTarget = { host: pair.source.host, port: pair.source.tlsPort };
  const sourceConnections = options.countSourceConnections
    ? await startCountingProxy(sourceTarget)
    : undefined;
  const source = await createServer(ctx, {
    name: "source",
    host: pair.source.host,
    port: sourceConnections?.port ?? pair.source.tlsPort,
    security: "tls",
    acceptSelfSigned: true,
    sourceHostLimit: options.sourceHostLimit ?? null,
  });
  const dest = await createServer(ctx, {
    name: "destination",
    host: pair.destination.host,
    port: pair.destination.tlsPort,
    security: "tls",
    acceptSelfSigned: true,
  });
  return {
    pair,
    sourceServerId: source.id,
    destServerId: dest.id,
    ...(sourceConnections ? { sourceConnections } : {}),
    async stop() {
      await sourceConnections?.close();
      await pair.stop();
    },
  };
}

/** A source mailbox and the empty destination mailbox it migrates to. */
export interface MailboxUsers {
  source: { user: string; password: string };
  dest: { user: string; password: string };
}

/**
 * A real (not dry-run) job that migrates `users` from the fixture's source server to its destination;
 * `overrides` replace any of those fields (a wrong password, engine options, a batch).
 */
export function createFixtureJob(
  ctx: ServiceContext,
  imap: ImapFixture,
  users: MailboxUsers,
  overrides: Partial<CreateJobInput> = {},
): Promise<JobView> {
  return createJob(ctx, {
    sourceServerId: imap.sourceServerId,
    sourceEmail: users.source.user,
    sourcePassword: users.source.password,
    destServerId: imap.destServerId,
    destEmail: users.dest.user,
    destPassword: users.dest.password,
    dryRun: false,
    ...overrides,
  });
}

/** A source user with the standard test mailbox and an empty destination user. */
export async function standardUsers(pair: ImapPair, name: string): Promise<MailboxUsers> {
  const source = await pair.source.addUser(`${name}@old.example`, `src-${name}-pw`);
  const dest = await pair.destination.addUser(`${name}@new.example`, `dst-${name}-pw`);
  await seedMailbox(pair.source, source.user, source.password, standardMailboxSpec());
  return { source, dest };
}

/** A source user with `messages` generated messages written straight into its Maildir (fast to seed). */
export async function largeUsers(
  pair: ImapPair,
  name: string,
  messages: number,
  seed = 1,
): Promise<MailboxUsers> {
  const source = await pair.source.addUser(`${name}@old.example`, `src-${name}-pw`);
  const dest = await pair.destination.addUser(`${name}@new.example`, `dst-${name}-pw`);
  await pair.source.seedMaildir(
    source.user,
    generateLargeMailbox({ messages, folders: 2, seed, averageSize: 4000 }),
  );
  return { source, dest };
}
