import type { Database } from "@imapferry/db";
import { type Kysely, sql } from "kysely";
import { NOTIFICATION_PRIORITY } from "../notifications/queue.ts";

/** graphile-worker tasks of credential links; they run in the notification runner. */
export const CREDENTIAL_LINK_TASKS = {
  /** Payload { requestId, sealedLink, reminder }: emails the link (or its reminder) to the owner. */
  email: "credential_link_email",
  /** Payload { requestId }: at the link's expiry, marks it expired (unless it was used first). */
  expire: "credential_link_expire",
} as const;

/** A send is retried with backoff for about a day: past that the link is close to expiring anyway. */
const EMAIL_ATTEMPTS = 12;

type Db = Kysely<Database>;

function taskKey(requestId: number, what: "email" | "reminder" | "expire"): string {
  return `imapferry:credential-link:${requestId}:${what}`;
}

/**
 * Queues what a new link needs: its email now and a reminder at half its life (with an owner email),
 * and its expiry. The email tasks carry the link's token sealed by the vault: it is needed to write the
 * link into an email later, and only its hash is kept in credential_requests. The entries are removed
 * when the link ends early (endLinkTasks), and graphile-worker deletes each once it has run.
 */
export async function queueLinkTasks(
  trx: Db,
  link: { requestId: number; sealedLink: string; emailed: boolean; reminderAt: Date; expiresAt: Date },
): Promise<void> {
  if (link.emailed) {
    for (const [what, runAt] of [
      ["email", null],
      ["reminder", link.reminderAt],
    ] as const) {
      await sql`select graphile_worker.add_job(
          ${CREDENTIAL_LINK_TASKS.email},
          json_build_object('requestId', ${link.requestId}::int, 'sealedLink', ${link.sealedLink}::text,
                            'reminder', ${what === "reminder"}::boolean),
          run_at => coalesce(${runAt}::timestamptz, now()),
          max_attempts => ${EMAIL_ATTEMPTS}::int,
          job_key => ${taskKey(link.requestId, what)}::text,
          priority => ${NOTIFICATION_PRIORITY}::int
        )`.execute(trx);
    }
  }
  await sql`select graphile_worker.add_job(
      ${CREDENTIAL_LINK_TASKS.expire},
      json_build_object('requestId', ${link.requestId}::int),
      run_at => ${link.expiresAt}::timestamptz,
      job_key => ${taskKey(link.requestId, "expire")}::text,
      priority => ${NOTIFICATION_PRIORITY}::int
    )`.execute(trx);
}

/** Removes the pending tasks of links that ended early (used, replaced, cancelled), sealed tokens included. */
export async function endLinkTasks(trx: Db, requestIds: readonly number[]): Promise<void> {
  if (requestIds.length === 0) return;
  const keys = requestIds.flatMap((id) => [
    taskKey(id, "email"),
    taskKey(id, "reminder"),
    taskKey(id, "expire"),
  ]);
  await sql`select graphile_worker.remove_job(key) from unnest(${sql.val(keys)}::text[]) as key`.execute(trx);
}
