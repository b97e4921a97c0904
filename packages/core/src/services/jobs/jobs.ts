import type { CredentialRequestStatus, Database } from "@imapferry/db";
import { type Kysely, type RawBuilder, sql } from "kysely";
import type { z } from "zod";
import type { ServiceContext } from "../../context.ts";
import { layerOptions } from "../../engines/option-layers.ts";
import { ImapferryError } from "../../errors.ts";
import { enqueueJobs, nudgeWorkers } from "../../queue/queue-entries.ts";
import {
  emailOffProblem,
  endPendingLinks,
  issueLinkIn,
  type OwnerLinkConfig,
} from "../credential-requests/issue-link.ts";
import { takeConnection } from "../oauth2-connect/connections.ts";
import { lockServersForShare } from "../servers/credential-binding.ts";
import { getSettings } from "../settings/settings.ts";
import { parseInput } from "../validation.ts";
import { type BulkOutcome, bulkJobs } from "./bulk.ts";
import { checkedDelegatedGrant, delegatedGrant, encryptDelegatedGrant } from "./delegated-oauth2.ts";
import { idIn } from "./id-list.ts";
import { notifyJobsChanged, notifyResume } from "./job-events.ts";
import { JOB_VIEW_COLUMNS, type JobView, type JobViewRow, toJobView } from "./job-view.ts";
import {
  createJobInputSchema,
  deleteJobInputSchema,
  editJobInputSchema,
  type JobSortKey,
  jobIdInputSchema,
  jobOptionsSchema,
  listJobsInputSchema,
  passwordRequiredSentence,
  rerunJobInputSchema,
} from "./schemas.ts";
import { pairMembersOf, refreshSuperseded } from "./superseded.ts";

export interface JobPage {
  items: JobView[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

type Db = Kysely<Database>;

function selectJobViews(db: Db) {
  return (
    db
      .selectFrom("jobs")
      .leftJoin("batches", "batches.id", "jobs.batch_id")
      .leftJoin("servers as ss", "ss.id", "jobs.source_server_id")
      .leftJoin("servers as ds", "ds.id", "jobs.dest_server_id")
      // The job's latest credential link (an index lookup per job: credential_requests_job_idx).
      .leftJoinLateral(
        (eb) =>
          eb
            .selectFrom("credential_requests")
            .selectAll()
            .whereRef("credential_requests.job_id", "=", "jobs.id")
            .orderBy("credential_requests.id", "desc")
            .limit(1)
            .as("cr"),
        (join) => join.onTrue(),
      )
      .select([
        ...JOB_VIEW_COLUMNS,
        "batches.tag as batch_tag",
        "ss.name as source_server_name",
        "ds.name as dest_server_name",
        "cr.id as cr_id",
        // A pending link past its expiry is expired by the database's clock, before its task has run.
        sql<CredentialRequestStatus>`case when cr.status = 'pending' and cr.expires_at <= now() then 'expired' else cr.status end`.as(
          "cr_status",
        ),
        "cr.owner_email as cr_owner_email",
        "cr.created_at as cr_created_at",
        "cr.expires_at as cr_expires_at",
        "cr.emailed_at as cr_emailed_at",
        "cr.email_error as cr_email_error",
        "cr.reminders_sent as cr_reminders_sent",
        "cr.last_reminder_at as cr_last_reminder_at",
        "cr.failed_attempts as cr_failed_attempts",
        "cr.used_at as cr_used_at",
      ])
  );
}

async function loadViews(db: Db, ids: readonly number[]): Promise<JobView[]> {
  if (ids.length === 0) return [];
  const rows = await selectJobViews(db).where(idIn("jobs.id", ids)).orderBy("jobs.id").execute();
  return rows.map((r) => toJobView(r as JobViewRow));
}

/** The servers asked for, with whether each holds admin credentials; BAD_INPUT for one that does not exist. */
async function assertServersExist(
  db: Db,
  ids: number[],
): Promise<Map<number, { id: number; name: string; hasAdmin: boolean }>> {
  const unique = [...new Set(ids)];
  const found = await db
    .selectFrom("servers")
    .select(["id", "name", "admin_mode"])
    .where("id", "in", unique)
    .execute();
  const missing = unique.filter((id) => !found.some((f) => f.id === id));
  if (missing.length > 0) {
    throw new ImapferryError(
      "BAD_INPUT",
      `There is no server ${missing.join(", ")}. Add the server first or pick one from the list.`,
      missing.map((id) => ({
        path: [ids[0] === id ? "sourceServerId" : "destServerId"],
        message: `no server ${id}`,
      })),
    );
  }
  return new Map(found.map((f) => [f.id, { id: f.id, name: f.name, hasAdmin: f.admin_mode !== null }]));
}

const SIDE_PASSWORD_FIELD = { source: "sourcePassword", destination: "destPassword" } as const;

/**
 * Refuses (BAD_INPUT) a job whose side has no password while its server has no admin credentials to
 * log in with instead.
 */
function assertPasswordsOrAdmin(
  servers: Map<number, { hasAdmin: boolean }>,
  sides: { side: "source" | "destination"; serverId: number; password: string | number | undefined }[],
): void {
  const missing = sides.filter((s) => !s.password && !servers.get(s.serverId)?.hasAdmin);
  const first = missing[0];
  if (!first) return;
  throw new ImapferryError(
    "BAD_INPUT",
    passwordRequiredSentence(first.side),
    missing.map((s) => ({ path: [SIDE_PASSWORD_FIELD[s.side]], message: passwordRequiredSentence(s.side) })),
  );
}

/** A side holds a password or a refresh token, not both: which one would log in would be a guess. */
function assertOnePasswordOrGrant(v: {
  sourcePassword?: string | undefined;
  sourceOAuth2?: unknown;
  sourceConnectionId?: number | undefined;
  destPassword?: string | undefined;
  destOAuth2?: unknown;
  destConnectionId?: number | undefined;
}): void {
  for (const [password, grant, connection, field] of [
    [v.sourcePassword, v.sourceOAuth2, v.sourceConnectionId, "sourceOAuth2"],
    [v.destPassword, v.destOAuth2, v.destConnectionId, "destOAuth2"],
  ] as const) {
    if ([password, grant, connection].filter(Boolean).length > 1) {
      const message =
        "Give one credential for this side: the password, the OAuth2 refresh token or a connection, not several.";
      throw new ImapferryError("BAD_INPUT", message, [{ path: [field], message }]);
    }
  }
}

/** Routing: an explicit pool, else the batch's, else the tenant's rule, else the default pool (null). */
export function routePool(
  explicit: string | undefined | null,
  batchPool: string | null,
  tenant: string | null,
  tenantPools: Record<string, string>,
): string | null {
  return explicit ?? batchPool ?? (tenant ? (tenantPools[tenant] ?? null) : null);
}

/**
 * Creates one job and its queue entry in one transaction. Passwords are encrypted before anything is
 * written. With `askOwner` the job is created awaiting its source password instead (no queue entry)
 * and its owner's link is issued in the same transaction; `ownerLinks` is then required.
 */
export async function createJob(
  ctx: ServiceContext,
  input: unknown,
  ownerLinks?: OwnerLinkConfig,
): Promise<JobView> {
  const v = parseInput(createJobInputSchema, input, "job");
  const servers = await assertServersExist(ctx.db, [v.sourceServerId, v.destServerId]);
  assertOnePasswordOrGrant(v);
  const askOwner = v.askOwner;
  if (askOwner && (v.sourcePassword || v.sourceOAuth2 || v.sourceConnectionId)) {
    const message =
      "Give either the source password (or refresh token, or connection) or askOwner to ask the mailbox's owner for it, not both.";
    throw new ImapferryError("BAD_INPUT", message, [{ path: ["askOwner"], message }]);
  }
  if (askOwner?.email !== undefined && ownerLinks && !ownerLinks.emailEnabled)
    throw emailOffProblem(askOwner.email, ["askOwner", "email"]);
  if (askOwner && !ownerLinks)
    throw new ImapferryError(
      "CONFIG",
      "Links to mailbox owners need the server's public URL; this caller has none.",
    );
  assertPasswordsOrAdmin(servers, [
    {
      side: "source",
      serverId: v.sourceServerId,
      // The owner will give it: the job does not run before.
      password: askOwner
        ? "asked of the owner"
        : v.sourcePassword || v.sourceOAuth2?.refreshToken || v.sourceConnectionId,
    },
    {
      side: "destination",
      serverId: v.destServerId,
      password: v.destPassword || v.destOAuth2?.refreshToken || v.destConnectionId,
    },
  ]);
  const sourceGrant = v.sourceOAuth2
    ? await checkedDelegatedGrant(delegatedGrant(v.sourceOAuth2), v.sourceEmail, "sourceOAuth2")
    : null;
  const destGrant = v.destOAuth2
    ? await checkedDelegatedGrant(delegatedGrant(v.destOAuth2), v.destEmail, "destOAuth2")
    : null;
  const settings = await getSettings(ctx);
  // No password: the job logs in with its delegated grant, else its server's admin credentials (null secret).
  const sourceSecret = v.sourcePassword ? ctx.vault.encrypt(v.sourcePassword) : null;
  const destSecret = v.destPassword ? ctx.vault.encrypt(v.destPassword) : null;
  const created = await ctx.db.transaction().execute(async (trx) => {
    await lockServersForShare(trx, [v.sourceServerId, v.destServerId]);
    let batchPool: string | null = null;
    let tenant = v.tenant ?? null;
    let dryRun = v.dryRun;
    let batchOptions: Record<string, unknown> = {};
    if (v.batchId !== undefined) {
      const batch = await trx
        .selectFrom("batches")
        .select(["pool", "tenant", "dry_run", "defaults"])
        .where("id", "=", v.batchId)
        .executeTakeFirst();
      if (!batch)
        throw new ImapferryError("BAD_INPUT", `There is no batch ${v.batchId}.`, [
          { path: ["batchId"], message: "not found" },
        ]);
      // A batch's report, CSV and events belong to its tenant: so must every job in it.
      if (v.tenant !== undefined && batch.tenant !== null && v.tenant !== batch.tenant)
        throw new ImapferryError("BAD_INPUT", `Batch ${v.batchId} belongs to tenant "${batch.tenant}".`, [
          { path: ["tenant"], message: `must be "${batch.tenant}", the batch's tenant, or left out` },
        ]);
      batchPool = batch.pool;
      tenant ??= batch.tenant;
      // What the caller left out comes from the batch: its dry-run flag, and engine options under the job's own.
      if ((input as Record<string, unknown>).dryRun === undefined) dryRun = batch.dry_run;
      batchOptions = batch.defaults ?? {};
    }
    // The job's own options over the batch's over the settings' defaults (then the built-in ones).
    const layered = layerOptions({
      settings: settings.defaultEngineOptions,
      batch: batchOptions,
      own: ((input as Record<string, unknown>).options ?? {}) as Record<string, unknown>,
      ownOrigin: "job",
    });
    const options = parseInput(jobOptionsSchema, layered.merged, "engine options");
    // A connection's grant is taken (used up) in this transaction: a failed insert leaves it usable.
    const connected = async (id: number | undefined, serverId: number, login: string, field: string) =>
      id === undefined ? null : takeConnection(trx, ctx, { id, serverId, login, tenant, field });
    const sourceConnected = await connected(
      v.sourceConnectionId,
      v.sourceServerId,
      v.sourceEmail,
      "sourceConnectionId",
    );
    const destConnected = await connected(
      v.destConnectionId,
      v.destServerId,
      v.destEmail,
      "destConnectionId",
    );
    const row = await trx
      .insertInto("jobs")
      .values({
        name: v.name ?? `${v.sourceEmail} → ${v.destEmail}`,
        batch_id: v.batchId ?? null,
        tenant,
        pool: routePool(v.pool, batchPool, tenant, settings.tenantPools),
        source_server_id: v.sourceServerId,
        source_email: v.sourceEmail,
        source_secret: sourceSecret,
        source_oauth2:
          sourceConnected ??
          (sourceGrant && !sourceSecret ? encryptDelegatedGrant(ctx.vault, sourceGrant) : null),
        dest_server_id: v.destServerId,
        dest_email: v.destEmail,
        dest_secret: destSecret,
        dest_oauth2:
          destConnected ?? (destGrant && !destSecret ? encryptDelegatedGrant(ctx.vault, destGrant) : null),
        dry_run: dryRun,
        options,
        option_origins: layered.origins,
        priority: v.priority,
        ...(askOwner ? { status: "awaiting_credentials" as const } : {}),
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    // A job created into a batch for a pair it already has is that pair's new run.
    if (v.batchId !== undefined) await refreshSuperseded(trx, [row.id]);
    // Awaiting its owner, the job has no queue entry (and holds no worker slot) until the link is used.
    const link =
      askOwner && ownerLinks
        ? await issueLinkIn(trx, ctx.vault, ownerLinks, {
            jobId: row.id,
            ownerEmail: askOwner.email ?? null,
            expiresInHours: askOwner.expiresInHours,
          })
        : null;
    if (!link) await enqueueJobs(trx, { jobIds: [row.id] });
    await notifyJobsChanged(trx, [row.id]);
    return { id: row.id, url: link && askOwner?.returnLink ? link.url : null };
  });
  return withLinkUrl(await getJob(ctx, created.id), created.url);
}

/** The view with the URL of the link just issued (shown this once: only its hash is stored). */
export function withLinkUrl(job: JobView, url: string | null): JobView {
  if (url === null || job.credentialRequest === null) return job;
  return { ...job, credentialRequest: { ...job.credentialRequest, url } };
}

export async function getJob(ctx: Pick<ServiceContext, "db">, id: number): Promise<JobView> {
  const row = await selectJobViews(ctx.db)
    .where("jobs.id", "=", id)
    .where("jobs.deleted_at", "is", null)
    .executeTakeFirst();
  if (!row) throw new ImapferryError("NOT_FOUND", `There is no job ${id}.`);
  return toJobView(row as JobViewRow);
}

/**
 * What each sort key orders by, for a table alias: never null (a keyset comparison with a null is
 * null), so jobs that have not finished sort after every finished one (newest first), and statuses
 * sort descending as an operator scans them: what needs a look (failed, incomplete…) first.
 */
const SORT_EXPRESSIONS: Record<JobSortKey, (table: string) => RawBuilder<unknown>> = {
  created: (t) => sql`${sql.ref(`${t}.created_at`)}`,
  finished: (t) => sql`coalesce(${sql.ref(`${t}.finished_at`)}, '-infinity'::timestamptz)`,
  status: (t) =>
    sql`array_position(array['done', 'cancelled', 'queued', 'running', 'waiting', 'awaiting_credentials', 'interrupted', 'incomplete', 'failed']::text[], ${sql.ref(`${t}.status`)}::text)`,
  name: (t) => sql`lower(${sql.ref(`${t}.name`)})`,
};

/** Newest first (or by `sort`), hiding deleted jobs; `cursor` pages on in the same order. */
export async function listJobs(ctx: Pick<ServiceContext, "db">, input: unknown = {}): Promise<JobPage> {
  const v = parseInput(listJobsInputSchema, input ?? {}, "job filter");
  let query = selectJobViews(ctx.db).where("jobs.deleted_at", "is", null);
  if (v.status !== undefined) {
    const statuses = Array.isArray(v.status) ? v.status : [v.status];
    if (statuses.length > 0) query = query.where("jobs.status", "in", statuses);
  }
  if (v.batchId !== undefined) query = query.where("jobs.batch_id", "=", v.batchId);
  if (!v.includeSuperseded) query = query.where("jobs.superseded_by", "is", null);
  if (v.tenant !== undefined) query = query.where("jobs.tenant", "=", v.tenant);
  if (v.q) {
    const pattern = `%${v.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([
        eb("jobs.name", "ilike", pattern),
        eb("jobs.source_email", "ilike", pattern),
        eb("jobs.dest_email", "ilike", pattern),
        eb("ss.name", "ilike", pattern),
        eb("ds.name", "ilike", pattern),
      ]),
    );
  }
  const key = SORT_EXPRESSIONS[v.sort];
  if (v.cursor !== undefined) {
    // Keyset paging on (sort key, id), compared with the cursor row's own values in SQL: a value
    // that went through a JS Date (milliseconds) would skip or repeat rows created in the same
    // millisecond.
    const cursorId = Number(v.cursor);
    const after = v.direction === "desc" ? sql`<` : sql`>`;
    query = query.where(
      sql<boolean>`(${key("jobs")}, jobs.id) ${after} (select ${key("c")}, c.id from jobs c where c.id = ${cursorId})`,
    );
  }
  const rows = await query
    .orderBy(key("jobs"), v.direction)
    .orderBy("jobs.id", v.direction)
    .limit(v.limit + 1)
    .execute();
  const page = rows.slice(0, v.limit).map((r) => toJobView(r as JobViewRow));
  const last = page.at(-1);
  return { items: page, nextCursor: rows.length > v.limit && last ? String(last.id) : null };
}

/**
 * Changes a job that is not running. An empty password keeps the stored one. A queued job keeps its
 * place in line (its queue entry is rewritten only when the source server changed).
 */
export async function editJob(ctx: ServiceContext, input: unknown): Promise<JobView> {
  const v = parseInput(editJobInputSchema, input, "job change");
  assertOnePasswordOrGrant(v);
  // A new refresh token is tried before anything changes, for the login the job will have.
  const grants = await editedGrants(ctx, v);
  const ids = [v.sourceServerId, v.destServerId].filter((x): x is number => x !== undefined);
  const sourceSecret = v.sourcePassword ? ctx.vault.encrypt(v.sourcePassword) : undefined;
  const destSecret = v.destPassword ? ctx.vault.encrypt(v.destPassword) : undefined;
  await ctx.db.transaction().execute(async (trx) => {
    const job = await trx
      .selectFrom("jobs")
      .select(["id", "status", "source_server_id", "source_email", "dest_server_id", "dest_email"])
      .where("id", "=", v.id)
      .where("deleted_at", "is", null)
      .forUpdate()
      .executeTakeFirst();
    if (!job) throw new ImapferryError("NOT_FOUND", `There is no job ${v.id}.`);
    if (job.status === "running") {
      throw new ImapferryError(
        "CONFLICT",
        `Job ${v.id} is running and cannot be edited. Wait for it to end or cancel it first.`,
      );
    }
    // A new server or login moves the job to another mailbox pair: both pairs get their latest run again.
    const movesPair =
      v.sourceServerId !== undefined ||
      v.sourceEmail !== undefined ||
      v.destServerId !== undefined ||
      v.destEmail !== undefined;
    const formerPair = movesPair ? await pairMembersOf(trx, [v.id]) : [];
    // A server whose endpoint is being changed waits for this job to be written: the check in
    // updateServer then counts it.
    const servers = await assertServersExist(trx, [
      ...ids,
      ...(v.sourceServerId === undefined ? [job.source_server_id] : []),
      ...(v.destServerId === undefined ? [job.dest_server_id] : []),
    ]);
    await lockServersForShare(trx, ids);
    const dropped = assertPasswordsFollowEndpoint(job, v, servers);
    await trx
      .updateTable("jobs")
      .set({
        ...(v.name !== undefined ? { name: v.name } : {}),
        ...(v.sourceServerId !== undefined ? { source_server_id: v.sourceServerId } : {}),
        ...(v.sourceEmail !== undefined ? { source_email: v.sourceEmail } : {}),
        // A side holds a password or a delegated grant: a new one replaces the other.
        ...(sourceSecret !== undefined ? { source_secret: sourceSecret, source_oauth2: null } : {}),
        ...(dropped.source ? { source_secret: null, source_oauth2: null } : {}),
        ...(grants.source ? { source_secret: null, source_oauth2: grants.source } : {}),
        ...(v.destServerId !== undefined ? { dest_server_id: v.destServerId } : {}),
        ...(v.destEmail !== undefined ? { dest_email: v.destEmail } : {}),
        ...(destSecret !== undefined ? { dest_secret: destSecret, dest_oauth2: null } : {}),
        ...(dropped.destination ? { dest_secret: null, dest_oauth2: null } : {}),
        ...(grants.destination ? { dest_secret: null, dest_oauth2: grants.destination } : {}),
        ...(v.dryRun !== undefined ? { dry_run: v.dryRun } : {}),
        ...(v.options !== undefined ? { options: JSON.stringify(v.options) } : {}),
        ...(v.priority !== undefined ? { priority: v.priority } : {}),
      })
      .where("id", "=", v.id)
      .execute();
    if (movesPair) await refreshSuperseded(trx, [v.id, ...formerPair]);
    // The operator entered the source password the owner was asked for: the job queues, the link dies.
    const answered =
      job.status === "awaiting_credentials" && (sourceSecret !== undefined || grants.source !== null);
    if (answered) {
      await trx.updateTable("jobs").set({ status: "queued" }).where("id", "=", v.id).execute();
      await endPendingLinks(trx, [v.id], "cancelled");
      await enqueueJobs(trx, { jobIds: [v.id] });
    }
    const requeue =
      job.status === "queued" &&
      ((v.sourceServerId !== undefined && v.sourceServerId !== job.source_server_id) ||
        v.priority !== undefined);
    if (requeue) await enqueueJobs(trx, { jobIds: [v.id] });
    await notifyJobsChanged(trx, [v.id]);
  });
  return getJob(ctx, v.id);
}

/**
 * A stored password is only ever sent to the endpoint (server and login) it was entered for: moving a
 * job to another server or login needs that side's password again, unless the new server has admin
 * credentials: the stored password is then dropped and the admin logs in for the new login. Otherwise
 * one edit and a rerun would hand the stored password to any server the editor names. Returns the
 * sides whose stored password is dropped.
 */
function assertPasswordsFollowEndpoint(
  job: { source_server_id: number; source_email: string; dest_server_id: number; dest_email: string },
  change: z.output<typeof editJobInputSchema>,
  servers: Map<number, { hasAdmin: boolean }>,
): { source: boolean; destination: boolean } {
  const sides = [
    {
      side: "source" as const,
      moved:
        (change.sourceServerId !== undefined && change.sourceServerId !== job.source_server_id) ||
        (change.sourceEmail !== undefined && change.sourceEmail !== job.source_email),
      // A new refresh token answers a move as a new password does.
      password: change.sourcePassword || change.sourceOAuth2?.refreshToken,
      adminOnTarget: servers.get(change.sourceServerId ?? job.source_server_id)?.hasAdmin === true,
    },
    {
      side: "destination" as const,
      moved:
        (change.destServerId !== undefined && change.destServerId !== job.dest_server_id) ||
        (change.destEmail !== undefined && change.destEmail !== job.dest_email),
      password: change.destPassword || change.destOAuth2?.refreshToken,
      adminOnTarget: servers.get(change.destServerId ?? job.dest_server_id)?.hasAdmin === true,
    },
  ];
  const unanswered = sides.filter((s) => s.moved && !s.password);
  const missing = unanswered.filter((s) => !s.adminOnTarget);
  const first = missing[0];
  if (first) {
    throw new ImapferryError(
      "BAD_INPUT",
      `Changing a job's ${first.side} server or login needs the ${first.side} password again: the stored one was entered for another server or login.`,
      missing.map((s) => ({
        path: [SIDE_PASSWORD_FIELD[s.side]],
        message: `Enter the ${s.side} password for the new server or login.`,
      })),
    );
  }
  return {
    source: unanswered.some((s) => s.side === "source"),
    destination: unanswered.some((s) => s.side === "destination"),
  };
}

/** An edit's new delegated grants, tried at the token endpoint and sealed; none where none was given. */
async function editedGrants(
  ctx: ServiceContext,
  v: z.output<typeof editJobInputSchema>,
): Promise<{ source: string | null; destination: string | null }> {
  if (!v.sourceOAuth2 && !v.destOAuth2) return { source: null, destination: null };
  const job = await ctx.db
    .selectFrom("jobs")
    .select(["source_email", "dest_email"])
    .where("id", "=", v.id)
    .executeTakeFirst();
  if (!job) throw new ImapferryError("NOT_FOUND", `There is no job ${v.id}.`);
  const seal = async (input: typeof v.sourceOAuth2, login: string, field: string) =>
    input
      ? encryptDelegatedGrant(ctx.vault, await checkedDelegatedGrant(delegatedGrant(input), login, field))
      : null;
  return {
    source: await seal(v.sourceOAuth2, v.sourceEmail ?? job.source_email, "sourceOAuth2"),
    destination: await seal(v.destOAuth2, v.destEmail ?? job.dest_email, "destOAuth2"),
  };
}

function throwIfFailed(outcome: BulkOutcome | undefined, id: number): BulkOutcome {
  if (!outcome) throw new ImapferryError("NOT_FOUND", `There is no job ${id}.`);
  if (!outcome.ok && outcome.error) throw new ImapferryError(outcome.error.code, outcome.error.message);
  return outcome;
}

/**
 * A queued job leaves the queue and is cancelled at once. A running job is asked to stop (wherever it
 * runs); it becomes `cancelled` when its worker has stopped the engine, shortly after this returns.
 */
export async function cancelJob(ctx: Pick<ServiceContext, "db">, input: unknown): Promise<JobView> {
  const { id } = parseInput(jobIdInputSchema, input, "job id");
  const result = await bulkJobs(ctx, { action: "cancel", ids: [id] });
  throwIfFailed(result.results[0], id);
  return getJob(ctx, id);
}

/**
 * Resumes a waiting job now instead of at its resume time: its queue entry is moved to now, or, for a
 * wait the engine spends in process (running with a resume time), the worker running it ends the wait
 * (see queue/in-process-wait.ts). CONFLICT for a job that is not waiting.
 */
export async function resumeJobNow(ctx: Pick<ServiceContext, "db">, input: unknown): Promise<JobView> {
  const { id } = parseInput(jobIdInputSchema, input, "job id");
  await ctx.db.transaction().execute(async (trx) => {
    const job = await trx
      .selectFrom("jobs")
      .select(["status", "resume_at"])
      .where("id", "=", id)
      .where("deleted_at", "is", null)
      .forUpdate()
      .executeTakeFirst();
    if (!job) throw new ImapferryError("NOT_FOUND", `There is no job ${id}.`);
    if (job.status === "running" && job.resume_at !== null) {
      await notifyResume(trx, [id]);
      return;
    }
    if (job.status !== "waiting") {
      throw new ImapferryError(
        "CONFLICT",
        `Job ${id} is ${job.status}, not waiting to resume; there is nothing to resume now.`,
      );
    }
    await trx.updateTable("jobs").set({ resume_at: sql<Date>`now()` }).where("id", "=", id).execute();
    // The entry keeps its key: adding it again replaces the waiting one, now due.
    await enqueueJobs(trx, { jobIds: [id] }, { atResumeTime: true });
    await notifyJobsChanged(trx, [id]);
    await nudgeWorkers(trx);
  });
  return getJob(ctx, id);
}

/** Hides a job (kept for history) or, with `hard`, removes it with its logs and queue entry. */
export async function deleteJob(ctx: Pick<ServiceContext, "db">, input: unknown): Promise<void> {
  const { id, hard } = parseInput(deleteJobInputSchema, input, "job id");
  const result = await bulkJobs(ctx, { action: "delete", ids: [id], hard });
  throwIfFailed(result.results[0], id);
}

/** A new job copying this one (credentials stay encrypted), pointing back with `rerunOf`. */
export async function rerunJob(ctx: Pick<ServiceContext, "db">, input: unknown): Promise<JobView> {
  const { id, dryRun } = parseInput(rerunJobInputSchema, input, "rerun");
  const result = await bulkJobs(ctx, {
    action: "rerun",
    ids: [id],
    ...(dryRun !== undefined ? { dryRun } : {}),
  });
  const outcome = throwIfFailed(result.results[0], id);
  return getJob(ctx, outcome.newJobId!);
}

export { loadViews as loadJobViews };
